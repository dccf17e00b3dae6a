//! Cuts on skipped frames, placed in the main pass: each reference picture
//! is read as soon as it is decoded, and the non-reference frames between
//! two that jump like a cut are decoded too (see `DecodeSpec::jumps`).

use std::collections::{BTreeMap, HashSet};
use std::os::raw::c_int;

use ff::ffi;
use ffmpeg_next as ff;

use super::picture::Picture;
use crate::analysis::decode::JumpRule;
use crate::analysis::features::Glance;

/// The picture the decoder is working on, caught when it asks for the
/// picture's buffer (`get_buffer2`). With one decoder thread the picture is
/// complete once its packet has been sent, so it can be read at once: the
/// decoder's own output comes only after its reordering delay (two
/// reference frames later with B-pyramids), too late to choose whether the
/// non-reference frames that follow it in decoding order are decoded.
pub(super) struct Capture {
    frame: ff::frame::Video,
    got: bool,
}

pub(super) unsafe extern "C" fn capture_buffer(
    s: *mut ffi::AVCodecContext,
    frame: *mut ffi::AVFrame,
    flags: c_int,
) -> c_int {
    // SAFETY: called by libavcodec with its context and the frame to fill;
    // `opaque` is the `Capture` the pass owns for the decoder's lifetime.
    let r = ffi::avcodec_default_get_buffer2(s, frame, flags);
    let cap = (*s).opaque as *mut Capture;
    if r >= 0 && !cap.is_null() {
        let own = (*cap).frame.as_mut_ptr();
        ffi::av_frame_unref(own);
        (*cap).got = ffi::av_frame_ref(own, frame) >= 0;
        if (*cap).got {
            // The buffer has the coded size (1088 lines for 1080p); the
            // picture shown is the top-left display size.
            (*own).width = (*s).width.min((*own).width);
            (*own).height = (*s).height.min((*own).height);
        }
    }
    r
}

/// NAL length size of length-prefixed H.264/HEVC (from the avcC/hvcC
/// extradata), or 0 for Annex B start codes.
pub(super) fn nal_length_size(codec: ffi::AVCodecID, extradata: &[u8]) -> usize {
    match codec {
        ffi::AVCodecID::AV_CODEC_ID_H264 if extradata.len() > 4 && extradata[0] == 1 => {
            (extradata[4] & 3) as usize + 1
        }
        ffi::AVCodecID::AV_CODEC_ID_HEVC if extradata.len() > 22 && extradata[0] == 1 => {
            (extradata[21] & 3) as usize + 1
        }
        _ => 0,
    }
}

/// Whether a packet's picture is a reference picture, from its first slice
/// NAL's header (H.264 `nal_ref_idc`; HEVC's sub-layer non-reference
/// types). `None` for other codecs or a packet that cannot be read.
fn nal_is_ref(codec: ffi::AVCodecID, len_size: usize, data: &[u8]) -> Option<bool> {
    let slice = |nal: &[u8]| -> Option<bool> {
        let h = *nal.first()?;
        match codec {
            ffi::AVCodecID::AV_CODEC_ID_H264 => {
                (1..=5).contains(&(h & 0x1f)).then_some((h >> 5) & 3 != 0)
            }
            ffi::AVCodecID::AV_CODEC_ID_HEVC => {
                let ty = (h >> 1) & 0x3f;
                (ty < 32).then_some(!(ty <= 14 && ty % 2 == 0))
            }
            _ => None,
        }
    };
    let mut i = 0;
    if len_size > 0 {
        while i + len_size <= data.len() {
            let n = data[i..i + len_size]
                .iter()
                .fold(0usize, |a, &b| a << 8 | b as usize);
            i += len_size;
            if let Some(r) = slice(data.get(i..i + n)?) {
                return Some(r);
            }
            i += n;
        }
    } else {
        while i + 3 <= data.len() {
            if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
                if let Some(r) = slice(&data[i + 3..]) {
                    return Some(r);
                }
                i += 3;
            } else {
                i += 1;
            }
        }
    }
    None
}

/// A reference picture seen at decoding time.
pub(super) struct RefPic {
    t: f64,
    glance: Glance,
    yuv: Vec<u8>,
    /// The buffer it was read from: the decoder's output of the same
    /// picture is the same picture when it starts at the same address.
    data0: usize,
    in_near: bool,
}

/// Decodes the skipped frames around jumps (see [`crate::analysis::decode::DecodeSpec::jumps`]).
pub(super) struct NearCuts {
    rule: JumpRule,
    codec: ffi::AVCodecID,
    len_size: usize,
    capture: Box<Capture>,
    /// Recent reference pictures by presentation timestamp.
    refs: BTreeMap<i64, RefPic>,
    /// Timestamps of decoded non-reference frames: not for `on_frame`.
    extra: HashSet<i64>,
    out: Vec<(f64, Glance)>,
    /// This packet is sent with its non-reference frame decoded.
    decoding: bool,
}

/// Frames kept for refining cuts (7 kB each): beyond this (a long film of
/// fast motion), cuts fall back to a re-decode.
const NEAR_CUTS_MAX: usize = 4000;

impl NearCuts {
    /// Choose, before a packet is sent, whether its frame is decoded even
    /// if it is a non-reference frame: when the reference pictures on each
    /// side of its time jump.
    pub(super) fn choose(&mut self, pts: Option<i64>) -> bool {
        self.decoding = false;
        let Some(p) = pts else { return false };
        if self.out.len() >= NEAR_CUTS_MAX {
            return false;
        }
        let before = self.refs.range(..p).next_back().map(|(k, _)| *k);
        let after = self.refs.range(p + 1..).next().map(|(k, _)| *k);
        let (Some(a), Some(b)) = (before, after) else {
            return false;
        };
        // The differences between the reference frames before: a jump must
        // stand out from them as a cut stands out from its neighbourhood
        // (fast motion and dissolves change every frame a lot).
        let recent: Vec<&Glance> = self
            .refs
            .range(..=a)
            .rev()
            .take(9)
            .map(|(_, r)| &r.glance)
            .collect();
        let mut before: Vec<f32> = recent.windows(2).map(|w| w[0].diff(w[1])).collect();
        before.sort_by(|x, y| x.total_cmp(y));
        let median = before.get(before.len() / 2).copied();
        if !self
            .rule
            .is_jump(&self.refs[&a].glance, &self.refs[&b].glance, median)
        {
            return false;
        }
        for k in [a, b] {
            if let Some(r) = self.refs.get_mut(&k) {
                if !r.in_near {
                    r.in_near = true;
                    self.out.push((r.t, r.glance.clone()));
                }
            }
        }
        self.decoding = true;
        true
    }

    /// After a packet was sent: read the picture it decoded, if any.
    pub(super) fn take(&mut self, pkt: &ff::Packet, pic: &mut Picture, t_of: impl Fn(i64) -> f64) {
        if !std::mem::take(&mut self.capture.got) {
            return;
        }
        let f = &self.capture.frame;
        let Some(pts) = f.pts() else { return };
        let is_ref = !self.decoding
            || nal_is_ref(self.codec, self.len_size, pkt.data().unwrap_or(&[])).unwrap_or(true);
        let mut yuv = vec![0u8; pic.bytes()];
        if !pic.convert(f, &mut yuv) {
            return;
        }
        let t = t_of(pts);
        if is_ref {
            let (w, h) = pic.size();
            // SAFETY: reading a pointer field of the captured frame.
            let data0 = unsafe { (*f.as_ptr()).data[0] as usize };
            self.refs.insert(
                pts,
                RefPic {
                    t,
                    glance: Glance::of(&yuv, w, h),
                    yuv,
                    data0,
                    in_near: false,
                },
            );
            while self.refs.len() > 24 {
                self.refs.pop_first();
            }
        } else {
            self.extra.insert(pts);
            let (w, h) = pic.size();
            self.out.push((t, Glance::of(&yuv, w, h)));
        }
        // SAFETY: our own reference to the picture's buffers.
        unsafe { ffi::av_frame_unref(self.capture.frame.as_mut_ptr()) };
    }
}

impl NearCuts {
    /// For a stream of `codec` (H.264 or HEVC, else `None`: other codecs'
    /// packets do not say which frames are references).
    pub(super) fn new(rule: JumpRule, codec: ffi::AVCodecID, extradata: &[u8]) -> Option<Self> {
        if !matches!(
            codec,
            ffi::AVCodecID::AV_CODEC_ID_H264 | ffi::AVCodecID::AV_CODEC_ID_HEVC
        ) {
            return None;
        }
        Some(NearCuts {
            rule,
            codec,
            len_size: nal_length_size(codec, extradata),
            capture: Box::new(Capture {
                frame: ff::frame::Video::empty(),
                got: false,
            }),
            refs: BTreeMap::new(),
            extra: HashSet::new(),
            out: Vec::new(),
            decoding: false,
        })
    }

    /// Where the decoder's `get_buffer2` hands its pictures (see
    /// [`capture_buffer`]); stable for the life of `self`.
    pub(super) fn capture_ptr(&mut self) -> *mut Capture {
        &mut *self.capture
    }

    /// The decoder handed out a frame with this timestamp: true when it is
    /// one of the non-reference frames decoded for the cuts (not analysed).
    pub(super) fn take_extra(&mut self, pts: i64) -> bool {
        self.extra.remove(&pts)
    }

    /// The analysis picture of the reference frame with this timestamp, if
    /// it was read from the same buffer (`data0`) when it was decoded.
    pub(super) fn early_picture(&self, pts: i64, data0: usize) -> Option<&[u8]> {
        let r = self.refs.get(&pts)?;
        (r.data0 == data0).then_some(&r.yuv[..])
    }

    /// The frames kept around jumps, sorted by time.
    pub(super) fn into_frames(self) -> Vec<(f64, Glance)> {
        let mut out = self.out;
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-6);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_headers_say_which_pictures_are_references() {
        use ffi::AVCodecID::{AV_CODEC_ID_H264 as H264, AV_CODEC_ID_HEVC as HEVC};
        // Length-prefixed (4 bytes): an SEI NAL (type 6), then a slice.
        let avcc = |slice_hdr: u8| vec![0, 0, 0, 2, 0x06, 0x05, 0, 0, 0, 2, slice_hdr, 0x88];
        assert_eq!(nal_is_ref(H264, 4, &avcc(0x41)), Some(true)); // P, nal_ref_idc 2
        assert_eq!(nal_is_ref(H264, 4, &avcc(0x01)), Some(false)); // B, nal_ref_idc 0
        assert_eq!(nal_is_ref(H264, 4, &avcc(0x65)), Some(true)); // IDR
                                                                  // Annex B start codes.
        assert_eq!(
            nal_is_ref(H264, 0, &[0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x01, 0x9e]),
            Some(false)
        );
        // HEVC: TRAIL_N (0) is a sub-layer non-reference picture, TRAIL_R (1) is not.
        assert_eq!(nal_is_ref(HEVC, 4, &[0, 0, 0, 2, 0x00, 0x01]), Some(false));
        assert_eq!(nal_is_ref(HEVC, 4, &[0, 0, 0, 2, 0x02, 0x01]), Some(true));
        // No slice, a truncated length, another codec: unknown.
        assert_eq!(nal_is_ref(H264, 4, &[0, 0, 0, 2, 0x06, 0x05]), None);
        assert_eq!(nal_is_ref(H264, 4, &[0, 0, 0, 9, 0x41]), None);
        assert_eq!(
            nal_is_ref(ffi::AVCodecID::AV_CODEC_ID_MPEG2VIDEO, 0, &[0, 0, 1, 0]),
            None
        );
        // avcC / hvcC say how long the length prefix is.
        assert_eq!(nal_length_size(H264, &[1, 0x64, 0, 0x1f, 0xff, 0xe1]), 4);
        assert_eq!(nal_length_size(H264, &[0, 0, 0, 1, 0x67]), 0);
    }
}
