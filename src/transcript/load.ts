import { readFile } from 'node:fs/promises';
import { parseYamlSource } from '../util/yaml-source.js';
import { parseTranscript, TranscriptError } from './format.js';
import { modelFromTranscript, type ReplayModel } from './replay-model.js';
import { looksLikeCollector, modelFromCollector, parseCollector } from './scrapli-collector.js';

/** A transcript starts with its version line (comments may come first). */
const TRANSCRIPT_START = /^(?:\s*#.*\n|\s*\n)*transcript\s*:/;

/**
 * Reads a file to replay: a transcript (`transcript: 1`) or a collector file (per-level answer tables),
 * told apart by content. Every error names the file, line and column, and what to fix.
 */
export function parseReplaySource(text: string, file: string): ReplayModel {
  if (TRANSCRIPT_START.test(text)) return transcriptModel(text, file);
  const source = parseYamlSource(text, file);
  if (source.syntaxError) throw new TranscriptError(`${source.syntaxError} (the file is not valid YAML)`);
  if (source.data !== null && typeof source.data === 'object' && 'transcript' in source.data) {
    return transcriptModel(text, file);
  }
  if (looksLikeCollector(source.data)) return modelFromCollector(parseCollector(source), file, source);
  throw new TranscriptError(
    `${file}: neither a transcript (which starts with "transcript: 1") nor a collector file (with initial_privilege_level, privilege_level_prompts and events)`,
  );
}

function transcriptModel(text: string, file: string): ReplayModel {
  const transcript = parseTranscript(text, file);
  const source = parseYamlSource(text, file);
  const locate = (i: number) => source.locate(['events', i]);
  return modelFromTranscript(transcript, file, locate);
}

export async function loadReplaySource(file: string): Promise<ReplayModel> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new TranscriptError(
      `${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  return parseReplaySource(text, file);
}
