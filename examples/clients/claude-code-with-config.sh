#!/bin/sh
# Register mcp-ssh-session with Claude Code (run from anywhere), with a config file given by absolute path.
#
# NET_PASSWORD is a variable the config file names (password: env:NET_PASSWORD). -e copies its value from
# this shell into Claude Code's configuration, in plain text. Without -e the secret is missing and the
# server asks you for it on a local page, if the client supports MCP URL elicitation.
# "$(command -v node)" and "$SSH_AUTH_SOCK" are expanded now, by this shell: Claude Code stores the absolute
# path of node and the agent socket of this login (when the socket changes, remove the server and add it
# again).
#
# Keep -e after the server name: before it, `claude mcp add` reads "ssh" as a second variable and fails.
# Add --scope user before "ssh" to make the server available in every project.
claude mcp add ssh -e SSH_AUTH_SOCK="$SSH_AUTH_SOCK" -e NET_PASSWORD="$NET_PASSWORD" -- \
  "$(command -v node)" --max-semi-space-size=4 /path/to/mcp-ssh-session/dist/cli.js --config /path/to/config.yaml
