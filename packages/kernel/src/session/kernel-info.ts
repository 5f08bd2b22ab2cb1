/**
 * The kernel_info_reply content.
 * @see https://jupyter-client.readthedocs.io/en/latest/messaging.html#kernel-info
 */
import { PROTOCOL_VERSION } from '../protocol/messages.js';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const KERNEL_VERSION: string = (require('../../package.json') as { version: string }).version;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const TYPESCRIPT_VERSION: string = (require('typescript/package.json') as { version: string }).version;

/** What kernel_info_reply says about this kernel. */
export function kernelInfo(): Record<string, unknown> {
  return {
    status: 'ok',
    protocol_version: PROTOCOL_VERSION,
    implementation: 'hyperlab',
    implementation_version: KERNEL_VERSION,
    language_info: {
      name: 'typescript',
      version: TYPESCRIPT_VERSION,
      mimetype: 'text/typescript',
      file_extension: '.ts',
      pygments_lexer: 'typescript',
      codemirror_mode: { name: 'javascript', typescript: true },
      nbconvert_exporter: 'script',
    },
    banner: `HyperLab ${KERNEL_VERSION}: TypeScript ${TYPESCRIPT_VERSION} on Node.js ${process.version}. %lsmagic lists the magics; ?name shows help.`,
    help_links: [
      { text: 'TypeScript Handbook', url: 'https://www.typescriptlang.org/docs/handbook/intro.html' },
      { text: 'Node.js API', url: `https://nodejs.org/docs/${process.version}/api/` },
    ],
    debugger: false,
    supported_features: [],
  };
}
