/**
 * The Daily Prebuilt frame, as the seed plan draws it: `createFrame` + `join({url, token})`.
 * In development `@daily-co/daily-js` may resolve to the Daily emulator's stand-in (see
 * vite.config.ts); this code is the same either way.
 */
import DailyIframe, { type DailyCall, type DailyEventObjectFatalError } from '@daily-co/daily-js';

import type { JoinInfo } from './api';

export interface CallHandlers {
  onStatus: (text: string) => void;
  onFatal: (error: DailyEventObjectFatalError) => void;
  onLeft: () => void;
  onSharing: (sharing: boolean) => void;
}

export class ClassCall {
  private readonly call: DailyCall;

  constructor(container: HTMLElement, handlers: CallHandlers) {
    this.call = DailyIframe.createFrame(container, {
      iframeStyle: { width: '100%', height: '100%', border: '0' },
      showLeaveButton: true,
    });
    this.call
      .on('joined-meeting', () => handlers.onStatus('You are in the call.'))
      .on('participant-joined', (e) => handlers.onStatus(`${e?.participant.user_name} joined.`))
      .on('participant-left', (e) => handlers.onStatus(`${e?.participant.user_name} left.`))
      .on('participant-updated', (e) => {
        const p = e?.participant;
        if (p && !p.local) handlers.onStatus(`${p.user_name} ${p.screen ? 'is sharing their screen' : 'stopped sharing'}.`);
      })
      .on('local-screen-share-started', () => handlers.onSharing(true))
      .on('local-screen-share-stopped', () => handlers.onSharing(false))
      .on('error', (e) => e && handlers.onFatal(e))
      .on('left-meeting', () => handlers.onLeft());
  }

  async join(info: JoinInfo): Promise<void> {
    await this.call.join({ url: info.room_url, token: info.token });
  }

  isSharing(): boolean {
    return Boolean(this.call.participants().local?.screen);
  }

  toggleScreenShare(): void {
    if (this.isSharing()) this.call.stopScreenShare();
    else this.call.startScreenShare();
  }

  async destroy(): Promise<void> {
    await this.call.destroy();
  }
}
