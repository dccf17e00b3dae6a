//! The film's sound for the analysis: any format, layout and rate to mono
//! 16-bit PCM at `AUDIO_RATE`, folded into energies as it arrives.

use std::os::raw::c_int;

use ff::ffi;
use ffmpeg_next as ff;

use crate::analysis::audio::Energy;
use crate::analysis::decode::AUDIO_RATE;

pub(super) struct Resampler {
    swr: *mut ffi::SwrContext,
    key: (c_int, c_int, c_int),
    out: Vec<i16>,
}

impl Drop for Resampler {
    fn drop(&mut self) {
        // SAFETY: our own context (null is allowed).
        unsafe { ffi::swr_free(&mut self.swr) };
    }
}

impl Resampler {
    pub(super) fn new() -> Self {
        Resampler {
            swr: std::ptr::null_mut(),
            key: (-1, -1, -1),
            out: Vec::new(),
        }
    }

    /// Resample one decoded frame (or flush with `None`) into `energy`.
    pub(super) fn push(&mut self, f: Option<&ff::frame::Audio>, energy: &mut Energy) {
        // SAFETY: a decoded audio frame's planes hold `nb_samples` samples of
        // its format and layout; the output buffer is sized by
        // swr_get_out_samples for this call.
        unsafe {
            let (inp, n_in): ([*const u8; 8], c_int) = match f {
                Some(f) => {
                    let p = f.as_ptr();
                    let key = ((*p).format, (*p).sample_rate, (*p).ch_layout.nb_channels);
                    if key != self.key || self.swr.is_null() {
                        ffi::swr_free(&mut self.swr);
                        let mut out_l: ffi::AVChannelLayout = std::mem::zeroed();
                        ffi::av_channel_layout_default(&mut out_l, 1);
                        let mut in_l: ffi::AVChannelLayout = std::mem::zeroed();
                        if (*p).ch_layout.order == ffi::AVChannelOrder::AV_CHANNEL_ORDER_UNSPEC {
                            ffi::av_channel_layout_default(&mut in_l, (*p).ch_layout.nb_channels);
                        } else if ffi::av_channel_layout_copy(&mut in_l, &(*p).ch_layout) < 0 {
                            return;
                        }
                        let r = ffi::swr_alloc_set_opts2(
                            &mut self.swr,
                            &mut out_l,
                            ffi::AVSampleFormat::AV_SAMPLE_FMT_S16,
                            AUDIO_RATE as c_int,
                            &mut in_l,
                            std::mem::transmute::<c_int, ffi::AVSampleFormat>((*p).format),
                            (*p).sample_rate,
                            0,
                            std::ptr::null_mut(),
                        );
                        ffi::av_channel_layout_uninit(&mut in_l);
                        if r < 0 || ffi::swr_init(self.swr) < 0 {
                            ffi::swr_free(&mut self.swr);
                            return;
                        }
                        self.key = key;
                    }
                    let mut inp = [std::ptr::null::<u8>(); 8];
                    for (i, d) in inp.iter_mut().enumerate() {
                        *d = (*p).extended_data.add(i).read_unaligned() as *const u8;
                        if i + 1 >= (*p).ch_layout.nb_channels.max(1) as usize {
                            break;
                        }
                    }
                    (inp, (*p).nb_samples)
                }
                None if !self.swr.is_null() => ([std::ptr::null(); 8], 0),
                None => return,
            };
            let cap = ffi::swr_get_out_samples(self.swr, n_in).max(0) as usize + 32;
            if self.out.len() < cap {
                self.out.resize(cap, 0);
            }
            let mut out_p = self.out.as_mut_ptr() as *mut u8;
            let mut in_pp = inp;
            let got = ffi::swr_convert(
                self.swr,
                &mut out_p,
                cap as c_int,
                if n_in > 0 {
                    in_pp.as_mut_ptr()
                } else {
                    std::ptr::null_mut()
                },
                n_in,
            );
            if got > 0 {
                energy.push(&self.out[..got as usize]);
            }
        }
    }
}
