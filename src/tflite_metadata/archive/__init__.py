"""Layer 2, archives: the zip of associated files appended to a model, and ``.task`` bundles.

:mod:`.associated_files` reads it with the project's limits (entry count, sizes,
compression ratio, duplicate names, overlapping entries), writes it as the
consumers read it (stored entries, absolute offsets) and extracts it safely.
It knows nothing of models or tasks: it reads the tail of a buffer.
:mod:`.bundle` writes and reads MediaPipe's ``.task`` model bundles with the same
code, in MediaPipe's layout.
"""
