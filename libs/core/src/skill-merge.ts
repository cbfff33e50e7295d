import type { SkillOutput, SkillResponse } from './kakao';

/** Kakao shows at most 3 outputs in one SkillResponse. */
export const MAX_OUTPUTS = 3;

function simpleTextOf(output: SkillOutput): string | null {
  const keys = Object.keys(output);
  const st = output.simpleText as { text?: unknown } | undefined;
  if (keys.length === 1 && st && typeof st === 'object' && typeof st.text === 'string') return st.text;
  return null;
}

export interface MergeResult {
  response: SkillResponse;
  /** Outputs that did not fit into the 3 Kakao shows. */
  droppedOutputs: number;
}

/**
 * Coalesces the replies the agent sent for one message into the single SkillResponse a Kakao callback takes
 * (contract §5): outputs in order, adjacent `simpleText`s joined with a blank line, at most 3 outputs, the last
 * `quickReplies` win; `context` of the last reply that has one, `data` maps merged. A single reply passes
 * through unchanged.
 */
export function mergeSkillResponses(replies: SkillResponse[]): MergeResult {
  if (replies.length === 1) return { response: replies[0], droppedOutputs: 0 };
  const outputs: SkillOutput[] = [];
  let quickReplies: unknown[] | undefined;
  let context: unknown;
  let data: Record<string, unknown> | undefined;
  let extraTemplate: Record<string, unknown> = {};
  for (const reply of replies) {
    const { outputs: replyOutputs, quickReplies: replyQuick, ...restTemplate } = reply.template ?? {};
    extraTemplate = { ...extraTemplate, ...restTemplate };
    for (const output of replyOutputs ?? []) {
      const text = simpleTextOf(output);
      const previous = outputs.length > 0 ? simpleTextOf(outputs[outputs.length - 1]) : null;
      if (text !== null && previous !== null) {
        outputs[outputs.length - 1] = { simpleText: { text: `${previous}\n\n${text}` } };
      } else {
        outputs.push(output);
      }
    }
    if (Array.isArray(replyQuick)) quickReplies = replyQuick;
    if (reply.context !== undefined) context = reply.context;
    if (reply.data && typeof reply.data === 'object') data = { ...data, ...reply.data };
  }
  const response: SkillResponse = {
    version: '2.0',
    template: { ...extraTemplate, outputs: outputs.slice(0, MAX_OUTPUTS) },
  };
  if (quickReplies) (response.template as Record<string, unknown>).quickReplies = quickReplies;
  if (context !== undefined) response.context = context;
  if (data) response.data = data;
  return { response, droppedOutputs: Math.max(0, outputs.length - MAX_OUTPUTS) };
}

export interface HeldMergeResult extends MergeResult {
  /** How many of the held answers (in order, from the first) went into the response. */
  heldIncluded: number;
}

/**
 * The next-answer path (server-mode §4): the held answers' outputs go before the answer's own, merged as
 * `mergeSkillResponses` does (adjacent texts joined), within Kakao's 3 outputs. Held answers are taken oldest
 * first, whole, as many as fit together with the answer; the others wait for a later answer. When not even the
 * oldest fits with the answer, it goes anyway (progress over completeness) and what does not fit is dropped.
 * `held[i]` is one held answer: its replies in order.
 */
export function mergeWithHeld(held: SkillResponse[][], current: SkillResponse[]): HeldMergeResult {
  const outputsOf = (responses: SkillResponse[]) =>
    mergeSkillResponses([...responses, { version: '2.0', template: { outputs: [] } }]);
  for (let k = held.length; k >= 1; k--) {
    const all = [...held.slice(0, k).flat(), ...current];
    const { droppedOutputs } = outputsOf(all);
    if (droppedOutputs === 0) return { ...mergeSkillResponses(all), heldIncluded: k };
  }
  if (held.length === 0) return { ...mergeSkillResponses(current), heldIncluded: 0 };
  return { ...mergeSkillResponses([...held[0], ...current]), heldIncluded: 1 };
}
