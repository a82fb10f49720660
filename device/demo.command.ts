import type { Command } from 'commander';
import { z } from 'zod';
import { describeIssues } from '../common/zod-issues.js';

const port = z.coerce.number().int().min(1).max(65535);
const optionsSchema = z.object({
  room: z.coerce.number().int().positive(),
  boxPort: port,
  teacherPort: port,
  janusPort: port,
  headless: z.boolean(),
  displayName: z.string().min(1).max(64),
});

export function registerDemoCommands(program: Command): void {
  program
    .command('demo')
    .description(
      'run a local Janus, a simulated box with its kiosk and a teacher page; press buttons from the terminal',
    )
    .option('--room <n>', 'videoroom number', '2222')
    .option('--box-port <port>', "the box's control API and page", '8470')
    .option('--teacher-port <port>', 'the teacher page', '8480')
    .option('--janus-port <port>', "Janus's WebSocket port", '8188')
    .option('--display-name <name>', 'the name the box shows in the room', '瑞金示范教学点')
    .option('--headless', 'run the kiosk without a window (default when there is no display)')
    .action(async (raw: Record<string, string | boolean | undefined>) => {
      const parsed = optionsSchema.safeParse({
        ...raw,
        headless: raw.headless === true || (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY),
      });
      if (!parsed.success) {
        for (const line of describeIssues(parsed.error)) process.stderr.write(`classbox demo: ${line}\n`);
        process.exitCode = 2;
        return;
      }
      const { runDemo } = await import('./demo/demo.js');
      process.exitCode = await runDemo(parsed.data);
    });
}
