"""Session recordings: a blob store, hash-chained asciicast segments with a signed end, reading, a player.

`RecordingWriter` appends events and writes segments to a `BlobStore`; `read_recording` verifies the chain
and signature and returns the events; `Neutraliser` strips terminal answer-back and clipboard sequences so
that `play` can show recorded output to a viewer safely.
"""
