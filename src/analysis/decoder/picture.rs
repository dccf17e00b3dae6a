//! Decoded frames to the analysis picture: the size and swscale flags the
//! analysis asks for, the first field of interlaced frames, the display
//! rotation applied (as ffmpeg's command line did with `field`, `scale`
//! and autorotate).

use std::os::raw::c_int;

use ff::ffi;
use ffmpeg_next as ff;

pub(super) fn sws_flags(name: &str) -> c_int {
    match name {
        "fast_bilinear" => ffi::SWS_FAST_BILINEAR,
        "bicubic" => ffi::SWS_BICUBIC,
        "area" => ffi::SWS_AREA,
        "neighbor" => ffi::SWS_POINT,
        _ => ffi::SWS_BILINEAR,
    }
}

/// Converts decoded frames to a fixed small picture: yuv420p or grey.
pub(super) struct Picture {
    /// Output size (after rotation).
    width: u32,
    height: u32,
    grey: bool,
    flags: c_int,
    /// Keep one field: `Some(false)` top, `Some(true)` bottom.
    field: Option<bool>,
    rotation: u32,
    sws: *mut ffi::SwsContext,
    /// Source (width, height, format) the scaler was made for.
    src: (c_int, c_int, c_int),
    /// The scaled picture before rotation.
    tmp: Vec<u8>,
}

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: our own scaler, freed once (null is allowed).
        unsafe { ffi::sws_freeContext(self.sws) };
    }
}

impl Picture {
    pub(super) fn new(
        width: u32,
        height: u32,
        grey: bool,
        flags: c_int,
        field: Option<bool>,
        rotation: u32,
    ) -> Self {
        Picture {
            width,
            height,
            grey,
            flags,
            field,
            rotation,
            sws: std::ptr::null_mut(),
            src: (0, 0, -1),
            tmp: Vec::new(),
        }
    }

    /// Output size (after rotation), in pixels.
    pub(super) fn size(&self) -> (usize, usize) {
        (self.width as usize, self.height as usize)
    }

    pub(super) fn bytes(&self) -> usize {
        let n = (self.width * self.height) as usize;
        if self.grey {
            n
        } else {
            n * 3 / 2
        }
    }

    /// Size before rotation.
    fn scaled_size(&self) -> (u32, u32) {
        if self.rotation % 180 == 90 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }

    /// Scale `f` into `out` (`bytes()` long). False when the frame cannot
    /// be converted (no size or an unknown pixel format).
    pub(super) fn convert(&mut self, f: &ff::frame::Video, out: &mut [u8]) -> bool {
        // SAFETY: plain fields of a decoded video frame.
        let (w, h, fmt) = unsafe {
            let p = f.as_ptr();
            ((*p).width, (*p).height, (*p).format)
        };
        if w <= 0 || h <= 0 || fmt < 0 {
            return false;
        }
        if !self.scaler_for((w, h, fmt)) || !self.scale(f, h, out) {
            return false;
        }
        if self.rotation != 0 {
            self.rotate_into(out);
        }
        true
    }

    /// Lines of the source the scaler reads: half the frame's `h` when one
    /// field is kept.
    fn source_height(&self, h: c_int) -> c_int {
        if self.field.is_some() {
            (h / 2).max(1)
        } else {
            h
        }
    }

    /// Make the scaler for frames of `src` (width, height, pixel format)
    /// unless it is made already. False when swscale cannot convert them.
    fn scaler_for(&mut self, src: (c_int, c_int, c_int)) -> bool {
        if self.src == src && !self.sws.is_null() {
            return true;
        }
        let (w, h, fmt) = src;
        let (sw, sh) = self.scaled_size();
        // SAFETY: our own scaler is freed (null is allowed) and replaced;
        // `fmt` is a pixel format libav gave a decoded frame.
        unsafe {
            ffi::sws_freeContext(self.sws);
            self.sws = ffi::sws_getContext(
                w,
                self.source_height(h),
                std::mem::transmute::<c_int, ffi::AVPixelFormat>(fmt),
                sw as c_int,
                sh as c_int,
                if self.grey {
                    ffi::AVPixelFormat::AV_PIX_FMT_GRAY8
                } else {
                    ffi::AVPixelFormat::AV_PIX_FMT_YUV420P
                },
                self.flags,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null(),
            );
        }
        self.src = src;
        !self.sws.is_null()
    }

    /// Scale the frame `f` (`h` lines high) into `out`, or into `tmp` when
    /// a rotation follows. False when swscale fails.
    fn scale(&mut self, f: &ff::frame::Video, h: c_int, out: &mut [u8]) -> bool {
        let mut src: [*const u8; 4] = [std::ptr::null(); 4];
        let mut stride: [c_int; 4] = [0; 4];
        // SAFETY: the frame is a decoded video frame: `data`/`linesize`
        // describe planes of its width×height in its format. Field
        // selection doubles the strides and halves the height (what
        // ffmpeg's `field` filter does), so every line read lies inside the
        // frame.
        unsafe {
            let p = f.as_ptr();
            for i in 0..4 {
                src[i] = (*p).data[i];
                stride[i] = (*p).linesize[i];
                if let Some(bottom) = self.field {
                    if !src[i].is_null() && bottom {
                        src[i] = src[i].offset(stride[i] as isize);
                    }
                    stride[i] *= 2;
                }
            }
        }
        let (sw, sh) = self.scaled_size();
        let n = (sw * sh) as usize;
        let need = if self.grey { n } else { n * 3 / 2 };
        let rotate = self.rotation != 0;
        if rotate && self.tmp.len() != need {
            self.tmp = vec![0; need];
        }
        let dst_buf: &mut [u8] = if rotate {
            &mut self.tmp
        } else {
            &mut out[..need]
        };
        let base = dst_buf.as_mut_ptr();
        // SAFETY: the destination planes lie inside `dst_buf` (`need` bytes:
        // the luma plane, then two quarter-size chroma planes), and the
        // scaler was made for this source and destination.
        unsafe {
            let (dst, dst_stride): ([*mut u8; 4], [c_int; 4]) = if self.grey {
                (
                    [
                        base,
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                    ],
                    [sw as c_int, 0, 0, 0],
                )
            } else {
                (
                    [base, base.add(n), base.add(n + n / 4), std::ptr::null_mut()],
                    [sw as c_int, (sw / 2) as c_int, (sw / 2) as c_int, 0],
                )
            };
            let r = ffi::sws_scale(
                self.sws,
                src.as_ptr(),
                stride.as_ptr(),
                0,
                self.source_height(h),
                dst.as_ptr(),
                dst_stride.as_ptr(),
            );
            r > 0
        }
    }

    /// Rotate the scaled picture in `tmp` into `out`, plane by plane.
    fn rotate_into(&self, out: &mut [u8]) {
        let (sw, sh) = self.scaled_size();
        let n = (sw * sh) as usize;
        rotate_plane(
            &self.tmp[..n],
            sw as usize,
            sh as usize,
            self.rotation,
            &mut out[..n],
        );
        if !self.grey {
            let (cw, ch) = (sw as usize / 2, sh as usize / 2);
            let c = cw * ch;
            rotate_plane(
                &self.tmp[n..n + c],
                cw,
                ch,
                self.rotation,
                &mut out[n..n + c],
            );
            rotate_plane(
                &self.tmp[n + c..n + 2 * c],
                cw,
                ch,
                self.rotation,
                &mut out[n + c..n + 2 * c],
            );
        }
    }
}

/// Rotate a `w`×`h` plane clockwise by `deg` (90, 180, 270) into `out`.
fn rotate_plane(src: &[u8], w: usize, h: usize, deg: u32, out: &mut [u8]) {
    match deg {
        // Clockwise: output is h wide; out(r, c) = in(h-1-c, r).
        90 => {
            for r in 0..w {
                for c in 0..h {
                    out[r * h + c] = src[(h - 1 - c) * w + r];
                }
            }
        }
        180 => {
            for (o, &v) in out.iter_mut().zip(src.iter().rev()) {
                *o = v;
            }
        }
        // Counter-clockwise: out(r, c) = in(c, w-1-r).
        270 => {
            for r in 0..w {
                for c in 0..h {
                    out[r * h + c] = src[c * w + (w - 1 - r)];
                }
            }
        }
        _ => out.copy_from_slice(src),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_rotate_like_transpose() {
        // 3 wide, 2 high: rows "abc" / "def".
        let src = b"abcdef";
        let mut out = [0u8; 6];
        rotate_plane(src, 3, 2, 90, &mut out);
        assert_eq!(&out, b"daebfc"); // clockwise: rows "da", "eb", "fc"
        rotate_plane(src, 3, 2, 270, &mut out);
        assert_eq!(&out, b"cfbead"); // counter-clockwise: "cf", "be", "ad"
        rotate_plane(src, 3, 2, 180, &mut out);
        assert_eq!(&out, b"fedcba");
    }
}
