#!/bin/sh
# Register mcp-ssh-session with Claude Code (run from anywhere), without a config file.
# Without --config the server searches for one, starting in the folder Claude Code starts it in (the open
# project): a config file in a project you cloned would be used. claude-code-with-config.sh passes one.
#
# "$(command -v node)" and "$SSH_AUTH_SOCK" are expanded now, by this shell: Claude Code stores the absolute
# path of node and the agent socket of this login. When the socket changes (a new login, a reboot), remove
# the server (claude mcp remove ssh) and add it again. Keep -e after the server name.
claude mcp add ssh -e SSH_AUTH_SOCK="$SSH_AUTH_SOCK" -- \
  "$(command -v node)" --max-semi-space-size=4 /path/to/mcp-ssh-session/dist/cli.js
