import type { Request } from 'express';
import { Strategy } from 'passport-strategy';
import { bearerToken, queryToken } from '@app/platform';

export type VerifyCallback = (
  token: string | null,
  req: Request,
  done: (err: unknown, user?: unknown) => void,
) => void;

/**
 * A passport strategy reading `Authorization: Bearer <token>` and, where allowed, the `?token=` query parameter
 * (EventSource cannot set headers). The verify function decides; errors it raises reach the exception filter.
 */
export class BearerTokenStrategy extends Strategy {
  name = 'bearer-token';

  constructor(
    private readonly options: { allowQuery: (req: Request) => boolean },
    private readonly verify: VerifyCallback,
  ) {
    super();
  }

  override authenticate(req: Request): void {
    const token = this.extract(req);
    this.verify(token, req, (err, user) => {
      if (err) return this.error(err as Error);
      if (!user) return this.fail(401);
      return this.success(user);
    });
  }

  private extract(req: Request): string | null {
    return bearerToken(req) ?? (this.options.allowQuery(req) ? queryToken(req) : null);
  }
}
