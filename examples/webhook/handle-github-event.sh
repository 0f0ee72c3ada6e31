#!/bin/sh
# Run by the webhook relay once per delivery. The body, headers, event, delivery id and signature
# arrive as files and environment variables (see hooks.json); no request data passes through the shell.
exec "${HLS_BIN:-hls}" queue
