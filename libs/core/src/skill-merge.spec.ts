import { mergeSkillResponses, mergeWithHeld } from './skill-merge';
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

describe('mergeWithHeld (server-mode §4: held answers before the next answer, within 3 outputs)', () => {
  const t = (text: string): SkillResponse => ({
    version: '2.0',
    template: { outputs: [{ simpleText: { text } }] },
  });
  const card = (title: string): SkillResponse => ({
    version: '2.0',
    template: { outputs: [{ basicCard: { title } }] },
  });

  it('puts the held outputs first and joins adjacent texts', () => {
    const merged = mergeWithHeld([[t('late 1'), t('late 2')]], [t('now')]);
    expect(merged.heldIncluded).toBe(1);
    expect(merged.droppedOutputs).toBe(0);
    expect(merged.response.template?.outputs).toEqual([{ simpleText: { text: 'late 1\n\nlate 2\n\nnow' } }]);
  });

  it('takes as many held answers, oldest first, as fit with the answer in 3 outputs', () => {
    const merged = mergeWithHeld([[card('a')], [card('b')], [card('c')]], [t('now')]);
    expect(merged.heldIncluded).toBe(2);
    expect(merged.droppedOutputs).toBe(0);
    expect(merged.response.template?.outputs).toEqual([
      { basicCard: { title: 'a' } },
      { basicCard: { title: 'b' } },
      { simpleText: { text: 'now' } },
    ]);
  });

  it('never more than 3 outputs: the oldest held answer goes even when it alone does not fit', () => {
    const big: SkillResponse = {
      version: '2.0',
      template: {
        outputs: [
          { basicCard: { title: '1' } },
          { basicCard: { title: '2' } },
          { basicCard: { title: '3' } },
        ],
      },
    };
    const merged = mergeWithHeld([[big]], [t('now')]);
    expect(merged.heldIncluded).toBe(1);
    expect(merged.response.template?.outputs).toHaveLength(3);
    expect(merged.droppedOutputs).toBe(1);
  });

  it('without held answers it is mergeSkillResponses', () => {
    expect(mergeWithHeld([], [t('a'), t('b')])).toEqual({
      ...mergeSkillResponses([t('a'), t('b')]),
      heldIncluded: 0,
    });
  });
});
