//! Transcript and audit exports as files: JSON lines for scripts, WebVTT and SRT for players
//! and subtitle tools. Pure formatting of what the daemon answered; nothing here is logged.
//!
//! WebVTT and SRT time a caption from the start of one recording, so they hold one call; JSON
//! lines hold any number of calls, one segment a line.

use std::io::Write;

use serde::Serialize;

use super::protocol::AuditEntry;
use super::replies::{CallReply, SegmentRow};

/// The formats `transcript export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per segment.
    Jsonl,
    /// WebVTT captions, one cue per segment, the track as the voice.
    Vtt,
    /// SubRip captions, one per segment, the track before the text.
    Srt,
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Captions of several calls would share one timeline.
    #[error(
        "WebVTT and SRT hold the captions of one call; name it with --call, or export the \
         tenant as jsonl"
    )]
    OneCallOnly,
    /// Writing failed.
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

/// One line of a JSON lines transcript export.
#[derive(Serialize)]
struct SegmentLine<'a> {
    tenant: &'a str,
    call: &'a str,
    call_started_at_ms: i64,
    #[serde(flatten)]
    segment: &'a SegmentRow,
}

/// Writes `transcripts` in `format`.
pub fn write_transcripts(
    transcripts: &[CallReply],
    format: Format,
    out: &mut impl Write,
) -> Result<(), ExportError> {
    match format {
        Format::Jsonl => write_jsonl(transcripts, out),
        Format::Vtt | Format::Srt => {
            let [call] = transcripts else {
                return Err(ExportError::OneCallOnly);
            };
            match format {
                Format::Vtt => write_vtt(call, out),
                _ => write_srt(call, out),
            }
        }
    }
}

fn write_jsonl(transcripts: &[CallReply], out: &mut impl Write) -> Result<(), ExportError> {
    for transcript in transcripts {
        for segment in &transcript.segments {
            let line = SegmentLine {
                tenant: &transcript.tenant,
                call: &transcript.call.id,
                call_started_at_ms: transcript.call.started_at_ms,
                segment,
            };
            serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

/// `HH:MM:SS` and milliseconds after `separator`, as both caption formats write time.
fn timestamp(ms: i64, separator: char) -> String {
    let ms = ms.max(0);
    let (hours, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (minutes, rest) = (rest / 60_000, rest % 60_000);
    let (seconds, millis) = (rest / 1000, rest % 1000);
    format!("{hours:02}:{minutes:02}:{seconds:02}{separator}{millis:03}")
}

/// Text made safe inside a WebVTT cue: markup characters escaped, no blank line that would end
/// the cue.
fn vtt_text(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    one_line(&escaped)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn write_vtt(call: &CallReply, out: &mut impl Write) -> Result<(), ExportError> {
    writeln!(out, "WEBVTT")?;
    writeln!(out)?;
    writeln!(out, "NOTE call {} of tenant {}", call.call.id, call.tenant)?;
    for (n, segment) in call.segments.iter().enumerate() {
        writeln!(out)?;
        writeln!(out, "{}", n + 1)?;
        let (start, end) = (segment.start_ms, segment.end_ms.max(segment.start_ms));
        writeln!(out, "{} --> {}", timestamp(start, '.'), timestamp(end, '.'))?;
        let voice = vtt_text(&segment.track);
        writeln!(out, "<v {voice}>{}", vtt_text(&segment.text))?;
    }
    Ok(())
}

fn write_srt(call: &CallReply, out: &mut impl Write) -> Result<(), ExportError> {
    for (n, segment) in call.segments.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", n + 1)?;
        let (start, end) = (segment.start_ms, segment.end_ms.max(segment.start_ms));
        writeln!(out, "{} --> {}", timestamp(start, ','), timestamp(end, ','))?;
        writeln!(
            out,
            "{}: {}",
            one_line(&segment.track),
            one_line(&segment.text)
        )?;
    }
    Ok(())
}

/// Writes audit records as JSON lines, oldest first.
pub fn write_audit(records: &[AuditEntry], out: &mut impl Write) -> std::io::Result<()> {
    for record in records {
        serde_json::to_writer(&mut *out, record)?;
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::admin::replies::CallRow;

    fn call(segments: Vec<(i64, i64, &str)>) -> CallReply {
        CallReply {
            tenant: "acme".to_owned(),
            call: CallRow {
                id: "CA1".to_owned(),
                trunk: "twilio".to_owned(),
                started_at_ms: 1_700_000_000_000,
                ended_at_ms: None,
                segments: segments.len() as u64,
            },
            segments: segments
                .into_iter()
                .map(|(start_ms, end_ms, text)| SegmentRow {
                    track: "caller".to_owned(),
                    start_ms,
                    end_ms,
                    text: text.to_owned(),
                    revealed: false,
                    confidence: 0.9,
                })
                .collect(),
        }
    }

    fn render(calls: &[CallReply], format: Format) -> String {
        let mut out = Vec::new();
        write_transcripts(calls, format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn timestamps_carry_hours_and_milliseconds() {
        assert_eq!(timestamp(0, '.'), "00:00:00.000");
        assert_eq!(timestamp(3_723_004, ','), "01:02:03,004");
        assert_eq!(timestamp(-5, '.'), "00:00:00.000");
    }

    #[test]
    fn vtt_escapes_markup_and_srt_numbers_its_cues() {
        let calls = [call(vec![
            (0, 1500, "a <b> & c"),
            (61_000, 62_250, "two\n\nlines"),
        ])];
        let vtt = render(&calls, Format::Vtt);
        assert!(vtt.starts_with("WEBVTT\n\n"), "{vtt}");
        assert!(vtt.contains("00:00:00.000 --> 00:00:01.500\n<v caller>a &lt;b&gt; &amp; c\n"));
        assert!(vtt.contains("00:01:01.000 --> 00:01:02.250\n<v caller>two lines\n"));
        let srt = render(&calls, Format::Srt);
        assert_eq!(
            srt,
            "1\n00:00:00,000 --> 00:00:01,500\ncaller: a <b> & c\n\n\
             2\n00:01:01,000 --> 00:01:02,250\ncaller: two lines\n"
        );
    }

    #[test]
    fn captions_hold_one_call_and_jsonl_any() {
        let calls = [call(vec![(0, 1, "x")]), call(vec![(0, 1, "y")])];
        let mut out = Vec::new();
        let error = write_transcripts(&calls, Format::Srt, &mut out).unwrap_err();
        assert!(matches!(error, ExportError::OneCallOnly));
        let jsonl = render(&calls, Format::Jsonl);
        let lines: Vec<serde_json::Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["text"], "y");
        assert_eq!(lines[0]["call"], "CA1");
        assert_eq!(lines[0]["start_ms"], 0);
    }
}
