import { mergeSkillResponses } from './skill-merge';
import type { SkillResponse } from './kakao';

const text = (t: string) => ({ simpleText: { text: t } });
const card = (title: string) => ({
  basicCard: { title, thumbnail: { imageUrl: 'https://example.com/x.png' } },
});
const reply = (
  outputs: object[],
  extra: Partial<SkillResponse> & { quickReplies?: unknown[] } = {},
): SkillResponse => {
  const { quickReplies, ...rest } = extra;
  return {
    version: '2.0',
    template: { outputs, ...(quickReplies ? { quickReplies } : {}) },
    ...rest,
  } as SkillResponse;
};

describe('mergeSkillResponses', () => {
  it('passes a single reply through unchanged', () => {
    const single = reply([text('a'), card('c')], { quickReplies: [{ label: 'x' }] });
    expect(mergeSkillResponses([single]).response).toBe(single);
  });

  it('joins adjacent simpleTexts with a blank line', () => {
    const { response } = mergeSkillResponses([
      reply([text('one')]),
      reply([text('two')]),
      reply([text('three')]),
    ]);
    expect(response).toEqual({ version: '2.0', template: { outputs: [text('one\n\ntwo\n\nthree')] } });
  });

  it('keeps order and does not join across other components', () => {
    const { response } = mergeSkillResponses([reply([text('a'), card('c')]), reply([text('b')])]);
    expect(response.template?.outputs).toEqual([text('a'), card('c'), text('b')]);
  });

  it('keeps at most 3 outputs and reports what it dropped', () => {
    const result = mergeSkillResponses([reply([card('1'), card('2')]), reply([card('3'), card('4')])]);
    expect(result.response.template?.outputs).toEqual([card('1'), card('2'), card('3')]);
    expect(result.droppedOutputs).toBe(1);
  });

  it('lets the last quickReplies win, merges data, keeps the last context', () => {
    const { response } = mergeSkillResponses([
      reply([text('a')], { quickReplies: [{ label: 'first' }], data: { a: 1 }, context: { values: [1] } }),
      reply([text('b')], { quickReplies: [{ label: 'second' }], data: { b: 2 } }),
      reply([text('c')]),
    ]);
    expect(response.template?.quickReplies).toEqual([{ label: 'second' }]);
    expect(response.data).toEqual({ a: 1, b: 2 });
    expect(response.context).toEqual({ values: [1] });
    expect(response).not.toHaveProperty('useCallback');
  });

  it('does not treat a simpleText with extra keys as plain text', () => {
    const odd = { simpleText: { text: 'x' }, extra: true };
    const { response } = mergeSkillResponses([reply([text('a')]), reply([odd])]);
    expect(response.template?.outputs).toEqual([text('a'), odd]);
  });

  it('counts outputs after joining texts: joined simpleTexts take one of the 3 places', () => {
    const result = mergeSkillResponses([
      reply([text('a')]),
      reply([text('b'), card('1')]),
      reply([card('2'), text('c')]),
    ]);
    expect(result.response.template?.outputs).toEqual([text('a\n\nb'), card('1'), card('2')]);
    expect(result.droppedOutputs).toBe(1);
  });

  it('takes quickReplies from a reply without outputs, and keeps the last one that has them', () => {
    const { response } = mergeSkillResponses([
      reply([text('answer')], { quickReplies: [{ label: 'old' }] }),
      { version: '2.0', template: { outputs: [], quickReplies: [{ label: 'new' }] } } as SkillResponse,
      reply([text('more')]),
    ]);
    expect(response.template?.outputs).toEqual([text('answer\n\nmore')]);
    expect(response.template?.quickReplies).toEqual([{ label: 'new' }]);
  });
});
