import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { ClassPlacement } from '../../common/fleet-protocol.js';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { ClassPlacementPort } from '../ports/class-placement.port.js';
import { ConfigService } from './config.service.js';

/** What `relocate` did: asked the fleet and moved, asked and stayed, or walked to the next fallback. */
export type Relocation = 'moved' | 'same' | 'fallback';

/**
 * Where the box's class is (issue 19): the config's Janus URL and room, unless the class moved since.
 * When Janus is lost the box asks the fleet where its class is now; when the fleet can't be asked it
 * takes the next node of its config's ordered fallback list (the fleet moves a class to its first usable
 * fallback too, so both ways end on one node). A new config from the fleet carries the class's place
 * again, and replaces what was learnt here.
 */
@Injectable()
export class ClassLocationService implements OnApplicationBootstrap {
  private readonly log = createLogger(ClassLocationService.name);
  /** The fleet's last answer. */
  private answer: ClassPlacement | undefined;
  /** A node taken from the fallback list while the fleet could not be asked. */
  private walked: string | undefined;

  constructor(
    private readonly config: ConfigService,
    private readonly placement: ClassPlacementPort,
  ) {}

  onApplicationBootstrap(): void {
    this.config.changed.on(ClassLocationService.name, () => {
      this.answer = undefined;
      this.walked = undefined;
    });
  }

  get url(): string | undefined {
    return this.walked ?? this.answer?.url ?? this.config.current.janus.url;
  }

  get room(): number | undefined {
    return this.answer?.room ?? this.config.current.janus.room;
  }

  /** True while the box is on a fallback it took without the fleet's word. */
  get unconfirmed(): boolean {
    return this.walked !== undefined;
  }

  /**
   * Ask the fleet whether the class is where the box is: after a walk down the fallback list (its
   * network was down, say) the class may well be elsewhere, and a class must not stay split over two
   * nodes. True when the fleet named another node (the box must move); false when it agreed or can't be asked.
   */
  async confirm(): Promise<boolean> {
    const before = this.url;
    let answer: ClassPlacement | undefined;
    try {
      answer = await this.placement.locate();
    } catch (error) {
      this.log.debug(`Can't confirm the class's node yet: ${reason(error)}`);
      return false;
    }
    if (!answer) return false;
    this.answer = answer;
    this.walked = undefined;
    if (answer.url === before) return false;
    this.log.warn(`Moving class to where the fleet has it from=${before} to=${answer.url}`);
    return true;
  }

  /** Find the class again after its Janus was lost. */
  async relocate(): Promise<Relocation> {
    const before = this.url;
    try {
      const answer = await this.placement.locate();
      if (answer) {
        this.answer = answer;
        this.walked = undefined;
        if (answer.url === before) return 'same';
        this.log.warn(
          `Moved class to another media node from=${before} to=${answer.url} room=${answer.room}`,
        );
        return 'moved';
      }
    } catch (error) {
      this.log.warn(`Can't ask the fleet where the class is: ${reason(error)}`);
    }
    const { janus } = this.config.current;
    const base = this.answer ?? { url: janus.url, fallbackUrls: janus.fallbackUrls };
    const list = [...new Set([base.url, ...base.fallbackUrls])].filter((u): u is string => u !== undefined);
    if (list.length < 2) return 'same';
    // Not in the list (-1): start again from its head.
    this.walked = list[(list.indexOf(before ?? '') + 1) % list.length];
    this.log.warn(`Trying the next media node from=${before} to=${this.walked}`);
    return 'fallback';
  }
}
