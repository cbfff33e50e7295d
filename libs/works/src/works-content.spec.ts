import type { SkillResponse } from '@app/core';
import { skillResponseToWorks } from './works-content';

const response = (outputs: SkillResponse['template'] extends infer T ? T : never): SkillResponse => ({
  version: '2.0',
  template: outputs,
});

describe('skillResponseToWorks', () => {
  it('turns each output into one Works message, in order', () => {
    const contents = skillResponseToWorks(
      response({
        outputs: [
          { simpleText: { text: 'hello' } },
          { simpleImage: { imageUrl: 'https://img.example/a.png', altText: 'a' } },
          {
            basicCard: {
              title: 'Card',
              description: 'Pick one',
              thumbnail: { imageUrl: 'https://img.example/t.png' },
              buttons: [
                { action: 'webLink', label: 'Open', webLinkUrl: 'https://example.com' },
                { action: 'message', label: 'Yes', messageText: 'yes please' },
                { action: 'share', label: 'Share' },
              ],
            },
          },
          { textCard: { title: 'Only text', description: 'no buttons' } },
        ],
      }),
    );
    expect(contents).toEqual([
      { type: 'text', text: 'hello' },
      {
        type: 'image',
        previewImageUrl: 'https://img.example/a.png',
        originalContentUrl: 'https://img.example/a.png',
      },
      {
        type: 'button_template',
        contentText: 'Card\nPick one',
        actions: [
          { type: 'uri', label: 'Open', uri: 'https://example.com' },
          { type: 'message', label: 'Yes', text: 'yes please' },
        ],
      },
      { type: 'text', text: 'Only text\nno buttons' },
    ]);
  });

  it('writes other components as their readable title and description', () => {
    const contents = skillResponseToWorks(
      response({
        outputs: [
          {
            listCard: {
              header: { title: 'Menu' },
              items: [{ title: 'Tea', description: 'hot' }, { title: 'Cake' }],
            },
          },
          { carousel: { type: 'basicCard', items: [{ title: 'A' }, { title: 'B', description: 'b' }] } },
          { simpleText: { text: '' } },
        ],
      }),
    );
    expect(contents).toEqual([
      { type: 'text', text: 'Menu\nTea — hot\nCake' },
      { type: 'text', text: 'A\n\nB\nb' },
    ]);
  });

  it('puts quickReplies on the last message', () => {
    const contents = skillResponseToWorks(
      response({
        outputs: [{ simpleText: { text: 'one' } }, { simpleText: { text: 'two' } }],
        quickReplies: [
          { label: 'Again', action: 'message', messageText: 'again' },
          { label: 'Menu', action: 'block', blockId: 'b1' },
        ],
      }),
    );
    expect(contents[0]).toEqual({ type: 'text', text: 'one' });
    expect(contents[1]).toEqual({
      type: 'text',
      text: 'two',
      quickReply: {
        items: [
          { action: { type: 'message', label: 'Again', text: 'again' } },
          { action: { type: 'message', label: 'Menu', text: 'Menu' } },
        ],
      },
    });
  });

  it('passes a {"works": …} reply through as one message', () => {
    const sticker = { type: 'sticker', packageId: '1', stickerId: '2' };
    expect(skillResponseToWorks({ works: sticker })).toEqual([sticker]);
  });
});
