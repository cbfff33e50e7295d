import { parseLastEventId } from '@app/streams';
import { formatSseEvent } from './sse-format';

describe('SSE framing', () => {
  it('writes id, event and exactly one data line, LF only', () => {
    const text = formatSseEvent(7, 'message', {
      text: 'line one\nline two\r\nthree',
      emoji: '😀',
      ls: '\u2028',
    });
    expect(text.startsWith('id: 7\nevent: message\ndata: {')).toBe(true);
    expect(text.endsWith('}\n\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(5);
    expect(text).not.toContain('\r');
    const data = text.split('\n')[2].slice('data: '.length);
    expect(JSON.parse(data)).toEqual({ text: 'line one\nline two\r\nthree', emoji: '😀', ls: '\u2028' });
  });

  it.each([
    ['5', 5],
    [' 12 ', 12],
    ['0', 0],
    [['3', '4'], 3],
  ])('parses Last-Event-ID %p', (value, expected) => {
    expect(parseLastEventId(value)).toBe(expected);
  });

  it.each([undefined, '', 'abc', '-1', '1.5', '9'.repeat(20)])('ignores Last-Event-ID %p', (value) => {
    expect(parseLastEventId(value)).toBeNull();
  });
});
