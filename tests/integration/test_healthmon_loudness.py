"""healthmon's loudness meter against the reference: a 1 kHz sine at
-23 dBFS in stereo must read -23.0 LUFS (EBU Tech 3341), and on varied
generated signals, cut into AAC MPEG-TS segments like the station's, the
integrated loudness must agree with ffmpeg's ebur128 filter within 0.2 LU.
Also: digital silence and very quiet noise are flagged as silence, music is
not. Needs ffmpeg and espeak-ng (tools/install-deps.sh installs both)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import healthmon_fakes as hf  # noqa: E402
import radiotest as rt  # noqa: E402

HEALTHMON = sys.argv[1]
work = tempfile.mkdtemp(prefix="radio-healthmon-loudness-")
CONFIG = hf.write_config(os.path.join(work, "c.json"), ipns_name="unused")
TP_CONFIG = hf.write_config(os.path.join(work, "tp.json"), ipns_name="unused", true_peak=True)
AGREE_LU = 0.2
SINE_LU = 0.1
MINUS_23 = "pow(10\\,-23/20)"


check = rt.check


def analyze(*paths, config=CONFIG):
    p = rt.run([HEALTHMON, "--config", config, "--analyze", *paths], check=False)
    if p.returncode != 0:
        raise AssertionError(f"--analyze exited {p.returncode}: {p.stderr[-2000:]}\n{p.stdout[-2000:]}")
    return json.loads(p.stdout)["audio"]


def segment(name, *lavfi_args, seconds=6, rate=48000, channels=2, fmt="ts"):
    """A 6 s segment as the station makes them (AAC-LC 128k in MPEG-TS)."""
    out = os.path.join(work, f"{name}.{fmt}")
    codec = ["-c:a", "aac", "-b:a", "128k", "-f", "mpegts"] if fmt == "ts" else ["-c:a", "pcm_f32le"]
    hf.ffmpeg(*lavfi_args, "-t", str(seconds), "-ar", str(rate), "-ac", str(channels), *codec, out)
    return out


def lavfi(expr):
    return ["-f", "lavfi", "-i", expr]


def ffmpeg_integrated(path):
    """ffmpeg's ebur128 integrated loudness: the summary (one decimal) and
    the last per-frame value it attaches as metadata (three decimals)."""
    summary, _ = rt.ebur128(path)
    meta = os.path.join(work, "meta.txt")
    hf.ffmpeg("-i", path, "-af",
              f"ebur128=metadata=1,ametadata=mode=print:key=lavfi.r128.I:file={meta}", "-f", "null", "-")
    with open(meta) as f:
        values = [float(line.split("=", 1)[1]) for line in f if line.startswith("lavfi.r128.I=")]
    return summary, values[-1]


def speech_segment():
    """Speech-like bursts: espeak-ng phrases with pauses between them."""
    parts = []
    for i, text in enumerate(("This is the station.", "Listening through every gateway.",
                              "Loudness, peaks and silence, measured.")):
        wav = os.path.join(work, f"speech{i}.wav")
        rt.run(["espeak-ng", "-s", "160", "-w", wav, text])
        parts.append(wav)
    inputs = sum((["-i", p] for p in parts), [])
    pads = "".join(f"[{i}:a]aresample=48000,apad=pad_dur=0.6[p{i}];" for i in range(len(parts)))
    cat = "".join(f"[p{i}]" for i in range(len(parts))) + f"concat=n={len(parts)}:v=0:a=1[a]"
    return segment("speech", *inputs, "-filter_complex", pads + cat, "-map", "[a]")


def test_sine_at_minus_23_dbfs_in_stereo_reads_minus_23_lufs():
    sine = f"aevalsrc={MINUS_23}*sin(2*PI*1000*t):s=48000:c=stereo"
    for fmt in ("wav", "ts"):
        path = segment(f"sine-23-{fmt}", *lavfi(sine), fmt=fmt)
        a = analyze(path)
        print(f"     1 kHz sine -23 dBFS stereo ({fmt}): {a['integrated_lufs']:.3f} LUFS")
        check(abs(a["integrated_lufs"] - -23.0) <= SINE_LU,
              f"{fmt}: {a['integrated_lufs']:.3f} LUFS, want -23.0 +- {SINE_LU}")


def test_integrated_loudness_agrees_with_ffmpeg_ebur128_on_varied_signals():
    signals = {
        "white noise -20": lavfi("anoisesrc=r=48000:a=0.1:c=white:s=1"),
        "pink noise -30": lavfi("anoisesrc=r=48000:a=0.03:c=pink:s=2"),
        "brown noise": lavfi("anoisesrc=r=48000:a=0.2:c=brown:s=3"),
        "chord -18": lavfi(hf.music_source(220, -18, 6)),
        "chord -32": lavfi(hf.music_source(392, -32, 6)),
        "sweep": lavfi("aevalsrc=0.2*sin(2*PI*(50+1000*t)*t):s=48000"),
        "bursts with gaps": lavfi("aevalsrc=0.3*sin(2*PI*500*t)*gt(sin(2*PI*0.7*t)\\,0.3):s=48000"),
        "mono 44.1 kHz": lavfi(hf.music_source(262, -20, 6)),
    }
    results = []
    for name, args in signals.items():
        rate = 44100 if "44.1" in name else 48000
        ch = 1 if "mono" in name else 2
        path = segment(name.replace(" ", "_"), *args, rate=rate, channels=ch)
        results.append((name, path))
    results.append(("espeak-ng speech", speech_segment()))
    worst = 0.0
    for name, path in results:
        ours = analyze(path)["integrated_lufs"]
        summary, precise = ffmpeg_integrated(path)
        diff = ours - precise
        worst = max(worst, abs(diff), abs(ours - summary) - 0.05)
        print(f"     {name:18s} healthmon {ours:8.3f}  ffmpeg {precise:8.3f} (summary {summary:6.1f})"
              f"  diff {diff:+.3f} LU")
        check(abs(diff) <= AGREE_LU and abs(ours - summary) <= AGREE_LU + 0.05,
              f"{name}: healthmon {ours:.3f}, ffmpeg {precise:.3f} (summary {summary:.1f})")
    print(f"     worst disagreement {worst:.3f} LU (limit {AGREE_LU})")


def test_silence_and_very_quiet_noise_are_flagged_and_music_is_not():
    cases = {
        "digital silence": (lavfi("anullsrc=r=48000:cl=stereo"), True),
        "very quiet noise": (lavfi("anoisesrc=r=48000:a=0.0003:c=white"), True),
        "music": (lavfi(hf.music_source(220, -20, 6)), False),
        "quiet music": (lavfi(hf.music_source(220, -38, 6)), False),
    }
    for name, (args, silent) in cases.items():
        path = segment(name.replace(" ", "_"), *args)
        a = analyze(path)
        check(a["silence"] is silent,
              f"{name}: silence={a['silence']} (silent {a['silent_seconds']} s, short-term max "
              f"{a['short_term_max_lufs']})")


def test_true_peak_is_close_to_ffmpegs():
    path = segment("peaky", *lavfi(hf.music_source(440, -6, 6)))
    check(analyze(path)["true_peak_dbtp"] is None, "true peak measured though not configured")
    a = analyze(path, config=TP_CONFIG)
    _, ref_peak = rt.ebur128(path)
    print(f"     true peak healthmon {a['true_peak_dbtp']:.2f} dBTP, ffmpeg {ref_peak:.1f} dBFS")
    check(abs(a["true_peak_dbtp"] - ref_peak) <= 0.3, f"{a['true_peak_dbtp']} vs {ref_peak}")
    check(a["sample_peak_dbfs"] <= a["true_peak_dbtp"] + 1e-6, json.dumps(a))


if __name__ == "__main__":
    if not shutil.which("ffmpeg"):
        sys.exit("ffmpeg is needed")
    rt.run_tests(globals(), work, catch=(AssertionError, subprocess.CalledProcessError))
