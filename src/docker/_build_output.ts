/**
 * Parsers for docker's plain-text output: build steps of the legacy builder
 * and of BuildKit (`--progress=plain`), and layer states of push and pull.
 *
 * @module
 */
import type { DockerBuildStep, DockerLayerStatus } from "./types.ts";

const LEGACY_STEP = /^Step (\d+)\/(\d+) : (.*)$/;
const BUILDKIT_VERTEX = /^#(\d+) \[(?:[^\]\s]+ )?(\d+)\/(\d+)\] (.*)$/;
const BUILDKIT_LINE = /^#(\d+) (.*)$/;
const LAYER = /^([0-9a-f]{12}): (.+)$/;
const DIGEST = /(?:^|\s)digest: (sha256:[0-9a-f]{64})|^Digest: (sha256:[0-9a-f]{64})/;

/**
 * Parses a line that starts a build step.
 *
 * @param line A line of `docker build` output.
 * @returns The step, with the BuildKit vertex number when it is a BuildKit line.
 */
export function parseBuildStep(line: string): (DockerBuildStep & { vertex?: number }) | undefined {
  const legacy = LEGACY_STEP.exec(line);
  if (legacy) {
    return { current: Number(legacy[1]), total: Number(legacy[2]), instruction: legacy[3]! };
  }
  const bk = BUILDKIT_VERTEX.exec(line);
  if (bk) {
    return {
      vertex: Number(bk[1]),
      current: Number(bk[2]),
      total: Number(bk[3]),
      instruction: bk[4]!,
    };
  }
  return undefined;
}

/**
 * Parses a layer state line of a push or a pull (`0123456789ab: Pushed`).
 *
 * @param line A line of `docker push` or `docker pull` output.
 * @returns The layer and its state.
 */
export function parseLayerStatus(line: string): DockerLayerStatus | undefined {
  const m = LAYER.exec(line.trim());
  return m ? { id: m[1]!, status: m[2]! } : undefined;
}

/**
 * Finds the manifest digest in a push line (`1: digest: sha256:… size: 528`)
 * or a pull line (`Digest: sha256:…`).
 *
 * @param line A line of `docker push` or `docker pull` output.
 * @returns The digest.
 */
export function parseDigest(line: string): string | undefined {
  const m = DIGEST.exec(line.trim());
  return m ? (m[1] ?? m[2]) : undefined;
}

const STEP_OUTPUT_LINES = 40;

/**
 * Follows a build's output to know which step runs and what it printed, so a
 * failure can name the failing step and show its output. It understands the
 * legacy builder (`Step N/M : …` then the step's output) and BuildKit's plain
 * progress (`#V [k/m] …` then `#V <output>`, `#V ERROR: …`).
 */
export class BuildTracker {
  /** The current or last step (legacy) and its output. */
  #legacyStep: string | undefined;
  #legacyOutput: string[] = [];
  /** BuildKit vertices by number: their title and output. */
  #vertices = new Map<number, { title: string; output: string[] }>();
  #failedVertex: number | undefined;

  /**
   * Feeds one line of output.
   *
   * @param line The line.
   * @returns The step it starts, when it starts one for the first time.
   */
  add(line: string): DockerBuildStep | undefined {
    const step = parseBuildStep(line);
    if (step && step.vertex === undefined) {
      this.#legacyStep = line;
      this.#legacyOutput = [];
      return { current: step.current, total: step.total, instruction: step.instruction };
    }
    if (step && step.vertex !== undefined) {
      const known = this.#vertices.has(step.vertex);
      if (!known) {
        this.#vertices.set(step.vertex, { title: line.replace(/^#\d+ /, ""), output: [] });
      }
      return known
        ? undefined
        : { current: step.current, total: step.total, instruction: step.instruction };
    }
    const bk = BUILDKIT_LINE.exec(line);
    if (bk) {
      const vertex = Number(bk[1]);
      const text = bk[2]!;
      const v = this.#vertices.get(vertex);
      if (v === undefined) {
        // An `[internal]` step or a line we do not know: remember its title.
        if (!/^(sha256:|DONE|CACHED)/.test(text)) {
          this.#vertices.set(vertex, { title: text, output: [] });
        }
        return undefined;
      }
      if (/^sha256:[0-9a-f]+$/.test(text)) return undefined;
      if (text.startsWith("ERROR")) this.#failedVertex = vertex;
      push(v.output, text.replace(/^\d+\.\d+ /, ""));
      return undefined;
    }
    if (this.#legacyStep !== undefined) push(this.#legacyOutput, line);
    return undefined;
  }

  /** The step that failed (BuildKit) or the last step that started (legacy). */
  get failedStep(): string | undefined {
    if (this.#failedVertex !== undefined) return this.#vertices.get(this.#failedVertex)?.title;
    return this.#legacyStep;
  }

  /** The output of {@linkcode BuildTracker.failedStep}. */
  get failedStepOutput(): string[] {
    if (this.#failedVertex !== undefined) {
      return this.#vertices.get(this.#failedVertex)?.output ?? [];
    }
    return this.#legacyOutput;
  }
}

function push(lines: string[], line: string): void {
  lines.push(line);
  if (lines.length > STEP_OUTPUT_LINES) lines.shift();
}
