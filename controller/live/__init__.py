"""Live speech: the browser's microphone (MediaRecorder chunks) or an external encoder onto a mount.

`chunks` orders what the browser posts, `encoder` is the one ffmpeg per session that pushes
onto Icecast, and `ingest` keeps the running sessions and ends the ones nobody feeds.
"""
