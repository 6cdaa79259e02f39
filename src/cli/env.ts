/** `captioning env`: the machine, the versions and the compute backend this process gets. */
import { Command } from 'commander';

import { describeEnvironment } from '../compute/environment';

export function envCommand(): Command {
  return new Command('env')
    .description('show the machine, package versions and the chosen tfjs backend (and why)')
    .option('--json', 'print the report as JSON')
    .action(async (options: { json?: boolean }) => {
      const report = await describeEnvironment();
      if (options.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        return;
      }
      const lines = [
        `node      ${report.node} on ${report.platform}`,
        `machine   ${report.cpus.count} x ${report.cpus.model}, ${report.memoryGiB} GiB`,
        `backend   ${report.backend.kind}${report.backend.forcedBy ? ` (forced by ${report.backend.forcedBy})` : ''}`,
        ...report.backend.rejected.map((r) => `  not ${r.kind}: ${r.reason}`),
        ...Object.entries(report.backend.details).map(([k, v]) => `  ${k}: ${v}`),
        'packages',
        ...Object.entries(report.packages).map(([name, version]) => `  ${name} ${version}`),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
