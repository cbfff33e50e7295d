import type { SkillOutput, SkillResponse } from '@app/core';

/** A Works message action (button or quick reply): open a link, or send a text as the user. */
export type WorksAction =
  { type: 'uri'; label: string; uri: string } | { type: 'message'; label: string; text: string };

export interface WorksQuickReply {
  items: Array<{ action: WorksAction; imageUrl?: string }>;
}

/**
 * The `content` of a Works bot message (Works Developers, "Send message": text, image, button_template; other
 * types pass through from `{"works": …}` replies untouched).
 */
export type WorksContent =
  | { type: 'text'; text: string; quickReply?: WorksQuickReply }
  | { type: 'image'; previewImageUrl: string; originalContentUrl: string; quickReply?: WorksQuickReply }
  | { type: 'button_template'; contentText: string; actions: WorksAction[]; quickReply?: WorksQuickReply }
  | { type: string; quickReply?: WorksQuickReply; [field: string]: unknown };

/** A reply written for Works directly: `{"works": <content>}`, sent as is. */
export interface WorksPassThrough {
  works: WorksContent;
}

/** Works' limits on a button template (contentText 1000 characters, 10 actions) and on quick replies (13). */
const MAX_CONTENT_TEXT = 1000;
const MAX_ACTIONS = 10;
const MAX_QUICK_REPLIES = 13;
const MAX_LABEL = 20;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

export function isWorksPassThrough(response: unknown): response is WorksPassThrough {
  return isRecord(response) && isRecord(response.works) && typeof response.works.type === 'string';
}

/** A Kakao button or quick reply as a Works action; null for what Works cannot do (share, call without number). */
function toAction(button: unknown): WorksAction | null {
  if (!isRecord(button)) return null;
  const label = (str(button.label) ?? '').slice(0, MAX_LABEL);
  if (!label) return null;
  switch (button.action) {
    case 'webLink': {
      const uri = str(button.webLinkUrl);
      return uri ? { type: 'uri', label, uri } : null;
    }
    case 'phone': {
      const phone = str(button.phoneNumber);
      return phone ? { type: 'uri', label, uri: `tel:${phone}` } : null;
    }
    case 'message':
    case 'block':
      return { type: 'message', label, text: str(button.messageText) ?? label };
    default:
      return null;
  }
}

/** The readable text of a card: its title and description (a list card's header and items). */
function readableText(card: Record<string, unknown>): string {
  const parts: string[] = [];
  const header = isRecord(card.header) ? str(card.header.title) : undefined;
  if (header) parts.push(header);
  for (const key of ['title', 'description', 'text']) {
    const value = str(card[key]);
    if (value) parts.push(value);
  }
  if (Array.isArray(card.items)) {
    for (const item of card.items) {
      if (isRecord(item)) {
        const line = [str(item.title), str(item.description)].filter(Boolean).join(' — ');
        if (line) parts.push(line);
      }
    }
  }
  return parts.join('\n');
}

function cardToWorks(card: Record<string, unknown>): WorksContent | null {
  const text = readableText(card);
  const actions = (Array.isArray(card.buttons) ? card.buttons : [])
    .map((b) => toAction(b))
    .filter((a): a is WorksAction => a !== null)
    .slice(0, MAX_ACTIONS);
  if (actions.length > 0) {
    return { type: 'button_template', contentText: (text || ' ').slice(0, MAX_CONTENT_TEXT), actions };
  }
  return text ? { type: 'text', text } : null;
}

function outputToWorks(output: SkillOutput): WorksContent | null {
  const [kind] = Object.keys(output);
  const value = kind === undefined ? undefined : output[kind];
  if (!isRecord(value)) return null;
  switch (kind) {
    case 'simpleText': {
      const text = str(value.text);
      return text ? { type: 'text', text } : null;
    }
    case 'simpleImage': {
      const url = str(value.imageUrl);
      return url ? { type: 'image', previewImageUrl: url, originalContentUrl: url } : null;
    }
    case 'carousel': {
      const items = Array.isArray(value.items) ? value.items.filter(isRecord) : [];
      const text = items.map(readableText).filter(Boolean).join('\n\n');
      return text ? { type: 'text', text } : null;
    }
    default:
      return cardToWorks(value);
  }
}

/**
 * A Kakao SkillResponse as Works messages (works-channel.md §3), one per output, in order: `simpleText` → text,
 * `simpleImage` → image, a card with buttons → `button_template` (`webLink` → `uri`, `message` → `message`),
 * anything else → a text of its readable title and description. `quickReplies` go on the last message. A
 * `{"works": …}` reply is one message, as is. Outputs with nothing to show are skipped.
 */
export function skillResponseToWorks(response: SkillResponse | WorksPassThrough): WorksContent[] {
  if (isWorksPassThrough(response)) return [response.works];
  const template = response.template;
  const contents = (template?.outputs ?? []).map(outputToWorks).filter((c): c is WorksContent => c !== null);
  const items = (template?.quickReplies ?? [])
    .map((q) => toAction(q))
    .filter((a): a is WorksAction => a !== null)
    .slice(0, MAX_QUICK_REPLIES)
    .map((action) => ({ action }));
  if (items.length > 0) {
    if (contents.length === 0) {
      contents.push({ type: 'text', text: items.map((i) => i.action.label).join(' / ') });
    }
    const last = contents[contents.length - 1];
    contents[contents.length - 1] = { ...last, quickReply: { items } };
  }
  return contents;
}
