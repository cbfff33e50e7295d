/**
 * What the relay itself says to a messenger's users (Korean), the same on every channel: command answers, the pairing
 * hint, limits, outages. The channel adapter only decides how a text reaches the user.
 */
export const KO = {
  help: [
    '사용할 수 있는 명령어',
    '/pair 코드 — 에이전트와 연결 (예: /pair ABCD-2345)',
    '/unpair — 연결 해제',
    '/status — 연결 상태 확인',
    '/help — 도움말',
  ].join('\n'),
  pairUsage: '페어링 코드를 함께 보내 주세요. 예: /pair ABCD-2345',
  pairSuccess: '에이전트와 연결되었습니다. 이제 보내시는 메시지가 에이전트에게 전달됩니다.',
  pairInvalid: '유효하지 않거나 만료된 코드입니다. 에이전트에서 새 코드를 받아 다시 시도해 주세요.',
  pairTooMany: '연결 시도가 너무 많습니다. 10분 후에 다시 시도해 주세요.',
  unpairDone: '에이전트와의 연결을 해제했습니다.',
  unpairNone: '연결된 에이전트가 없습니다.',
  statusPaired: (since: string) => `에이전트와 연결되어 있습니다. (연결 시각: ${since})`,
  statusUnpaired: '연결된 에이전트가 없습니다. 에이전트에서 받은 코드로 "/pair 코드"를 보내 연결해 주세요.',
  notPaired:
    '아직 에이전트와 연결되지 않았습니다. 에이전트에서 받은 페어링 코드를 "/pair 코드" 형식으로 보내 주세요. 예: /pair ABCD-2345',
  /** A bot bound to one agent (server-mode.md §3): `/pair` and `/unpair` are not needed and do nothing. */
  botBoundPair:
    '이 챗봇은 이미 에이전트에 연결되어 있어 페어링 코드가 필요 없습니다. 메시지를 보내시면 바로 전달됩니다.',
  botBoundUnpair: '이 챗봇은 에이전트에 고정 연결되어 있어 연결을 해제할 수 없습니다.',
  statusBound: '이 챗봇은 에이전트에 연결되어 있습니다. 메시지를 보내시면 바로 전달됩니다.',
  /** A user not on the allow-list of a bound bot: nothing is stored. */
  botNotAllowed:
    '죄송합니다. 이 챗봇은 허용된 사용자만 이용할 수 있습니다. 이용을 원하시면 관리자에게 문의해 주세요.',
  notReady: '답변을 준비하고 있어요. 잠시 후에 다시 말씀해 주세요.',
  /** The event block asked for a held answer that went out already, expired, or is not this user's. */
  heldAnswerGone: '전달할 답변이 없습니다. 이미 전달되었거나 기한이 지났어요.',
  unavailable: '일시적으로 서비스를 이용할 수 없습니다. 잠시 후 다시 시도해 주세요.',
  slowDown: '메시지를 너무 빠르게 보내고 있어요. 잠시 후 다시 보내 주세요.',
};
