#!/bin/sh
# Register mcp-ssh-session with Claude Code (run from anywhere).
claude mcp add ssh -- node /path/to/mcp-ssh-session/dist/cli.js
