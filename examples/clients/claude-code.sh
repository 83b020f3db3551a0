#!/bin/sh
# Register mcp-ssh-session with Claude Code (run from anywhere), without a config file.
# Without --config the server searches for one, starting in the folder Claude Code starts it in (the open
# project): a config file in a project you cloned would be used. claude-code-with-config.sh passes one.
claude mcp add ssh -- node --max-semi-space-size=4 /path/to/mcp-ssh-session/dist/cli.js
