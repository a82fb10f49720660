/** Which computer the box runs on: media settings follow the board (DESIGN.md, "Media path"). */
export abstract class BoardPort {
  /** The model as the firmware names it, e.g. "Raspberry Pi 5 Model B Rev 1.0"; undefined on a PC. */
  abstract model(): Promise<string | undefined>;
}
