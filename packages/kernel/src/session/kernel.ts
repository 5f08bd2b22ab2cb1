/**
 * The kernel session: routes verified messages from the sockets to handlers, publishes status,
 * and owns the execution count, history, comms registry and type-checking mode.
 * @see https://jupyter-client.readthedocs.io/en/latest/messaging.html
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { childMessage, type JsonObject, type Message } from '../protocol/messages.js';
import type { KernelSockets, Logger } from '../protocol/sockets.js';
import { Executor } from '../executor/executor.js';
import { GLOBALS_DTS } from '../executor/globals-dts.js';
import type { CommMessage, DoneMessage, FromWorker } from '../executor/messages.js';
import { CompilerClient, LanguageClient } from '../language/client.js';
import { formatDiagnostics, type CellDiagnostic, type TypecheckMode } from '../language/service.js';
import { blankMagicLines, parseCell } from '../magics/parser.js';
import type { RpcRequest } from '../worker-rpc.js';
import { HistoryStore, type HistoryQuery } from './history.js';
import { kernelInfo } from './kernel-info.js';
import { excerptLines, TracebackMapper } from './traceback.js';

type Channel = 'shell' | 'control' | 'stdin';

/** Options for a kernel session. */
export interface KernelOptions {
  sockets: KernelSockets;
  log: Logger;
  history?: HistoryStore;
  /** Type checking mode at start (`HYPERLAB_TYPECHECK` env overrides the default `warn`). */
  typecheck?: TypecheckMode;
  /** Called after shutdown_reply is sent. */
  onShutdown?: (restart: boolean) => void;
}

interface ExecuteContent {
  code: string;
  silent?: boolean;
  store_history?: boolean;
  user_expressions?: Record<string, string>;
  allow_stdin?: boolean;
  stop_on_error?: boolean;
}

/** Outcome of running one cell, before the reply is built. */
interface CellOutcome {
  status: 'ok' | 'error' | 'aborted';
  ename?: string;
  evalue?: string;
  traceback?: string[];
  payload?: Array<Record<string, unknown>>;
  /**
   * Type diagnostics still being computed when the cell finished (`warn` mode while the language
   * service warms up): published after the cell's result, before its reply. Nothing may come
   * between a reply and `idle` that makes a client wait (jupyter_kernel_test reads IOPub with
   * 0.1 s timeouts after the reply, and ipykernel sends `idle` right after it).
   */
  lateDiagnostics?: Promise<CellDiagnostic[]>;
}

/** A running kernel. */
/** The outcome of a cell interrupted before it started running. */
const INTERRUPTED_BEFORE_START: CellOutcome = {
  status: 'error',
  ename: 'KeyboardInterrupt',
  evalue: 'interrupted before the cell started running',
  traceback: ['\x1b[1;31mKeyboardInterrupt\x1b[0m: interrupted before the cell started running'],
};

export class Kernel {
  readonly session = crypto.randomUUID();
  private readonly sockets: KernelSockets;
  private readonly log: Logger;
  private readonly history: HistoryStore;
  private readonly executor = new Executor();
  private readonly language: LanguageClient;
  private readonly compiler: CompilerClient;
  /** The types of the magics packages were requested ({@link preloadMagicTypes}). */
  private typesPreloaded = false;
  /** The language service has finished warming up (or failed to): checks no longer wait for it. */
  private languageWarm = false;
  private readonly tracebacks = new TracebackMapper();
  private readonly comms = new Map<string, string>();
  private mode: TypecheckMode;
  private executionCount = 0;
  private shellQueue: Promise<void> = Promise.resolve();
  private received = 0;
  private abortThrough = 0;
  private executorReady: Promise<void>;
  /** The execute_request whose cell is running (outputs are attributed to it). */
  private currentParent: Message | undefined;
  private currentAllowStdin = false;
  private currentSilent = false;
  private previousDir: string | undefined;
  private shuttingDown = false;
  /** An execute_request is being handled (compiling, checking or running). */
  private executing = false;
  /** An interrupt arrived while the cell was not yet running (compiling or type-checking): it stops the cell before it starts. */
  private interruptPending = false;
  /**
   * An interrupt that arrived while no cell was executing but shell requests were queued (read,
   * not yet handled): the first execute_request with a sequence up to this one is stopped before
   * it starts, as the user pressed interrupt after run. 0 when none.
   */
  private interruptQueuedThrough = 0;
  /** The sequence number of the last shell message handled to its end. */
  private handled = 0;

  constructor(private readonly options: KernelOptions) {
    this.sockets = options.sockets;
    this.log = options.log;
    this.history = options.history ?? new HistoryStore();
    const envMode = process.env.HYPERLAB_TYPECHECK;
    this.mode = options.typecheck ?? (envMode === 'strict' || envMode === 'off' || envMode === 'warn' ? envMode : 'warn');
    const languageOptions = {
      cwd: process.cwd(),
      kernelTypeRoots: [path.resolve(require.resolve('@types/node/package.json'), '..', '..')],
      globalsDts: GLOBALS_DTS,
    };
    this.language = new LanguageClient(languageOptions);
    this.compiler = new CompilerClient(languageOptions);
    this.executor.on('output', (message) => this.relay(message));
    this.executor.on('request', (request) => void this.answerExecutor(request));
    this.executor.on('exit', (code) => {
      if (this.shuttingDown) return;
      this.log('error', `executor exited with code ${code}; the kernel stops so the server can restart it`);
      process.exitCode = 1;
      this.options.onShutdown?.(false);
    });
    this.executorReady = this.executor.start();
    this.executorReady.then(
      () => {
        for (const extension of this.executor.extensions) if (!extension.ok) this.log('warn', `default extension ${extension.name} not loaded: ${extension.error}`);
      },
      (error: Error) => this.log('error', `executor failed to start: ${error.stack}`),
    );
    // Warming builds the first program (every lib and @types file): hundreds of milliseconds that
    // no cell waits for. Cells compile in their own worker, and until the warm-up is over a `warn`
    // cell's diagnostics are published after its result, before its reply (see runCell). It starts once cells can run,
    // so that it does not compete with the compile worker and the executor for the CPU meanwhile.
    const warmUp = async (): Promise<void> => {
      await Promise.allSettled([this.executorReady, this.compiler.ready()]);
      await this.language.warmUp();
    };
    void warmUp().then(
      () => {
        this.languageWarm = true;
      },
      (error: Error) => {
        this.languageWarm = true;
        if (!this.shuttingDown) this.log('warn', `language warm-up failed: ${error.message}`);
      },
    );
  }

  /** Starts serving; each new IOPub subscriber is sent `iopub_welcome`. */
  start(): void {
    this.sockets.listen(
      (channel, message) => this.receive(channel, message),
      (topic) => {
        const welcome = childMessage(undefined, 'iopub_welcome', { subscription: topic.toString('utf8') }, this.session);
        welcome.identities = [Buffer.from(topic)];
        void this.sockets.send('iopub', welcome);
      },
    );
  }

  private publish(parent: Message | undefined, msgType: string, content: JsonObject, metadata: JsonObject = {}): Promise<void> {
    const message = childMessage(parent, msgType, content, this.session, metadata);
    message.identities = [Buffer.from(`kernel.${msgType}`)];
    return this.sockets.send('iopub', message);
  }

  private reply(channel: Channel, parent: Message, msgType: string, content: JsonObject, metadata: JsonObject = {}): Promise<void> {
    return this.sockets.send(channel, childMessage(parent, msgType, content, this.session, metadata));
  }

  private receive(channel: Channel, message: Message): void {
    if (channel === 'stdin') {
      this.stdinReply(message);
      return;
    }
    if (channel === 'control') {
      void this.handleControl(message);
      return;
    }
    const sequence = ++this.received;
    this.shellQueue = this.shellQueue
      .then(() => this.handleShell(message, sequence))
      .catch((error: Error) => {
        this.log('error', `shell handler for ${message.header.msg_type} failed: ${error.stack}`);
      })
      .finally(() => {
        this.handled = sequence;
      });
  }

  private async handleControl(message: Message): Promise<void> {
    const type = message.header.msg_type;
    await this.publish(message, 'status', { execution_state: 'busy' });
    try {
      switch (type) {
        case 'interrupt_request':
          await this.interrupt();
          await this.reply('control', message, 'interrupt_reply', { status: 'ok' });
          break;
        case 'shutdown_request':
          await this.shutdown('control', message);
          return;
        case 'kernel_info_request':
          await this.reply('control', message, 'kernel_info_reply', kernelInfo());
          break;
        case 'debug_request':
          await this.reply('control', message, 'debug_reply', { status: 'error', ename: 'NotImplemented', evalue: 'this kernel has no debugger', traceback: [] });
          break;
        default:
          this.log('warn', `control: unknown message type ${type}`);
      }
    } finally {
      await this.publish(message, 'status', { execution_state: 'idle' });
    }
  }

  private async handleShell(message: Message, sequence: number): Promise<void> {
    const type = message.header.msg_type;
    await this.publish(message, 'status', { execution_state: 'busy' });
    try {
      switch (type) {
        case 'kernel_info_request':
          await this.reply('shell', message, 'kernel_info_reply', kernelInfo());
          break;
        case 'execute_request':
          await this.execute(message, sequence);
          break;
        case 'complete_request':
          await this.complete(message);
          break;
        case 'inspect_request':
          await this.inspect(message);
          break;
        case 'is_complete_request':
          await this.reply('shell', message, 'is_complete_reply', { ...(await this.language.isComplete(String(message.content.code ?? ''))) });
          break;
        case 'history_request':
          await this.historyReply(message);
          break;
        case 'comm_info_request':
          await this.commInfo(message);
          break;
        case 'comm_open':
        case 'comm_msg':
        case 'comm_close':
          await this.commFromFrontend(message);
          break;
        case 'shutdown_request':
          await this.shutdown('shell', message);
          return;
        default:
          this.log('warn', `shell: unknown message type ${type}`);
      }
    } catch (error) {
      this.log('error', `shell: ${type} failed: ${(error as Error).stack}`);
    } finally {
      await this.publish(message, 'status', { execution_state: 'idle' });
    }
  }

  // ---- execute -------------------------------------------------------------------------

  private async execute(message: Message, sequence: number): Promise<void> {
    const content = message.content as unknown as ExecuteContent;
    const code = typeof content.code === 'string' ? content.code : '';
    const silent = Boolean(content.silent);
    const storeHistory = content.store_history ?? !silent;
    if (sequence <= this.abortThrough) {
      await this.reply('shell', message, 'execute_reply', { status: 'aborted', execution_count: this.executionCount }, { status: 'aborted' });
      return;
    }
    if (storeHistory && !silent) this.executionCount++;
    const count = this.executionCount;
    if (!silent) await this.publish(message, 'execute_input', { code, execution_count: count });
    this.currentParent = message;
    this.currentAllowStdin = Boolean(content.allow_stdin);
    this.currentSilent = silent;
    let outcome: CellOutcome;
    this.executing = true;
    this.interruptPending = sequence <= this.interruptQueuedThrough;
    this.interruptQueuedThrough = 0;
    try {
      outcome = await this.runCell(code, count, silent, message);
    } catch (error) {
      outcome = { status: 'error', ename: 'KernelError', evalue: (error as Error).message, traceback: [String((error as Error).stack)] };
    } finally {
      this.executing = false;
      this.interruptPending = false;
    }
    if (storeHistory && code.trim() !== '') {
      const problem = this.history.append(count, code);
      if (problem) this.log('warn', problem);
    }
    let userExpressions: Record<string, unknown> = {};
    if (outcome.status === 'ok' && content.user_expressions && Object.keys(content.user_expressions).length) {
      userExpressions = await this.evaluateExpressions(content.user_expressions);
    }
    // The result is out already (a warming kernel did not make the run wait); its check comes before the reply.
    if (outcome.lateDiagnostics) await this.publishDiagnostics(message, await outcome.lateDiagnostics, silent);
    if (outcome.status === 'error') {
      if (!silent) {
        await this.publish(message, 'error', { ename: outcome.ename!, evalue: outcome.evalue!, traceback: outcome.traceback ?? [] });
      }
      if (content.stop_on_error ?? true) this.abortThrough = this.received;
      await this.reply(
        'shell',
        message,
        'execute_reply',
        { status: 'error', execution_count: count, ename: outcome.ename!, evalue: outcome.evalue!, traceback: outcome.traceback ?? [] },
        { status: 'error' },
      );
    } else {
      await this.reply(
        'shell',
        message,
        'execute_reply',
        { status: 'ok', execution_count: count, user_expressions: userExpressions, payload: outcome.payload ?? [] },
        { status: 'ok' },
      );
    }
  }

  /** Shows `warn` diagnostics on stderr. */
  private async publishDiagnostics(message: Message, diagnostics: CellDiagnostic[], silent: boolean): Promise<void> {
    if (diagnostics.length && !silent) await this.publish(message, 'stream', { name: 'stderr', text: `${formatDiagnostics(diagnostics)}\n` });
  }

  private async runCell(code: string, count: number, silent: boolean, message: Message): Promise<CellOutcome> {
    if (code.trim() === '') return { status: 'ok' };
    await this.executorReady;
    const parsed = parseCell(code, new Set(this.executor.magics.code));
    if (parsed.kind === 'help') {
      const text = parsed.target;
      const result = await this.language.inspect(text, text.length, parsed.detailLevel);
      const data = result.found ? { 'text/plain': result.plain, 'text/markdown': result.markdown } : { 'text/plain': `Object \`${text}\` not found.` };
      return { status: 'ok', payload: [{ source: 'page', data, start: 0 }] };
    }
    if (parsed.kind === 'cell-magic') {
      if (this.interruptPending) return INTERRUPTED_BEFORE_START;
      this.preloadMagicTypes();
      const done = await this.executor.run({ type: 'cell-magic', name: parsed.name, args: parsed.args, body: parsed.body, bodyLine: parsed.bodyLine, silent, executionCount: count });
      return this.finish(done, message, count, silent);
    }
    const filename = `Cell[${count}]`;
    const compiled = await this.compiler.compile(parsed.code, filename);
    if (!compiled.ok) {
      const lines = code.split('\n');
      return {
        status: 'error',
        ename: 'SyntaxError',
        evalue: `${compiled.message} (cell line ${compiled.line}, column ${compiled.column})`,
        traceback: [`\x1b[1;31mSyntaxError\x1b[0m: ${compiled.message}`, ...excerptLines(lines, compiled.line, compiled.column, `Cell In[${count}], line ${compiled.line}`)],
      };
    }
    this.tracebacks.register(filename, compiled.cell.sourceMap, compiled.cell.lineOneOffset, code, 0, `Cell In[${count}]`);
    const checking = this.mode === 'off' ? Promise.resolve([] as CellDiagnostic[]) : this.language.check(parsed.code).catch((error: Error) => {
      this.log('warn', `type check failed: ${error.message}`);
      return [] as CellDiagnostic[];
    });
    if (this.mode === 'strict') {
      const errors = (await checking).filter((d) => d.category === 'error');
      if (errors.length) {
        const text = formatDiagnostics(errors);
        return {
          status: 'error',
          ename: 'TypeScriptError',
          evalue: `${errors.length} type error${errors.length === 1 ? '' : 's'} (run blocked by %typecheck strict): ${errors[0].message}`,
          traceback: [`\x1b[1;31mTypeScriptError\x1b[0m: the cell was not run (%typecheck strict)`, ...text.split('\n')],
        };
      }
    }
    if (this.interruptPending) return INTERRUPTED_BEFORE_START;
    // Whether this cell's check is ready as soon as the service is: decided before the run, which
    // may take long enough for the warm-up to end.
    const checkWaits = this.mode === 'warn' && this.languageWarm;
    const done = await this.executor.run({ type: 'run', js: compiled.cell.js, filename, declared: compiled.cell.declared, hasValue: compiled.cell.hasValue, silent, executionCount: count });
    // The language worker answers in order: the commit follows this cell's check and precedes the
    // next cell's, so nothing needs to wait for it here.
    if (done.status !== 'interrupted') {
      void this.language.commit(parsed.code, count).catch((error: Error) => this.log('warn', `commit failed: ${error.message}`));
    }
    if (this.mode !== 'warn') return this.finish(done, message, count, silent);
    if (!checkWaits) return { ...(await this.finish(done, message, count, silent)), lateDiagnostics: checking };
    await this.publishDiagnostics(message, await checking, silent);
    return this.finish(done, message, count, silent);
  }

  /**
   * The first cell magic loads the types of the default magics packages into the language
   * service, on its own thread while the magic runs: an experiment magic declares its result as a
   * global of such a type (`import("@hyperlab/magics").AdapterRun`), and the next cell's check
   * would otherwise load ~600 declaration files (tfjs, the core) while the user waits, 2–3 s idle
   * and more under load. Sessions without cell magics never pay for it. `HYPERLAB_PRELOAD_TYPES=0`
   * turns it off.
   */
  private preloadMagicTypes(): void {
    if (this.typesPreloaded || process.env.HYPERLAB_PRELOAD_TYPES === '0') return;
    this.typesPreloaded = true;
    const modules = this.executor.extensions.filter((extension) => extension.ok).map((extension) => extension.name);
    if (!modules.length) return;
    void this.language.preloadTypes(modules).catch((error: Error) => {
      if (!this.shuttingDown) this.log('warn', `preloading the types of ${modules.join(', ')} failed: ${error.message}`);
    });
  }

  private async finish(done: DoneMessage, message: Message, count: number, silent: boolean): Promise<CellOutcome> {
    if (done.status === 'ok') {
      if (done.value && !silent) await this.publish(message, 'execute_result', { execution_count: count, data: done.value.data, metadata: done.value.metadata });
      return { status: 'ok', payload: done.payload };
    }
    const error = done.error ?? { ename: 'Error', evalue: 'unknown error', stack: '' };
    return { status: 'error', ename: error.ename, evalue: error.evalue, traceback: this.tracebacks.traceback(error.ename, error.evalue, error.stack) };
  }

  private async evaluateExpressions(expressions: Record<string, string>): Promise<Record<string, unknown>> {
    const compiled: Record<string, string> = {};
    const failures: Record<string, unknown> = {};
    for (const [key, expression] of Object.entries(expressions)) {
      const result = await this.compiler.compile(`(${expression})`, `user_expressions[${key}]`);
      if (result.ok) compiled[key] = result.cell.js;
      else failures[key] = { status: 'error', ename: 'SyntaxError', evalue: result.message, traceback: [] };
    }
    const done = await this.executor.run({ type: 'expressions', expressions: compiled });
    return { ...(done.expressions ?? {}), ...failures };
  }

  /** Sends executor output to iopub under the running cell's parent. */
  private relay(message: FromWorker): void {
    const parent = this.currentParent;
    // A silent execution broadcasts nothing on IOPub (messaging spec, execute_request.silent).
    if (this.currentSilent && message.type !== 'comm') return;
    switch (message.type) {
      case 'stream':
        void this.publish(parent, 'stream', { name: message.name, text: message.text });
        break;
      case 'display':
        void this.publish(parent, message.update ? 'update_display_data' : 'display_data', {
          data: message.display.data,
          metadata: message.display.metadata,
          transient: message.displayId ? { display_id: message.displayId } : {},
        });
        break;
      case 'clear':
        void this.publish(parent, 'clear_output', { wait: message.wait });
        break;
      case 'comm': {
        const content: JsonObject = { comm_id: message.commId, data: message.data };
        if (message.event === 'open') {
          this.comms.set(message.commId, message.targetName ?? '');
          content.target_name = message.targetName ?? '';
        } else if (message.event === 'close') this.comms.delete(message.commId);
        const out = childMessage(parent, `comm_${message.event}`, content, this.session, message.metadata ?? {});
        out.identities = [Buffer.from(`kernel.comm_${message.event}`)];
        out.buffers = (message.buffers ?? []).map((buffer) => Buffer.from(buffer));
        void this.sockets.send('iopub', out);
        break;
      }
      default:
        break;
    }
  }

  // ---- requests from the executor ----------------------------------------------------------

  private async answerExecutor(request: RpcRequest): Promise<void> {
    await this.executor.answer(request, async (method, params) => {
      const p = params as Record<string, unknown>;
      switch (method) {
        case 'input':
          return this.askInput(String(p.prompt ?? ''), Boolean(p.password));
        case 'compile': {
          const result = await this.compiler.compile(String(p.code), String(p.filename));
          if (!result.ok) throw new Error(`SyntaxError: ${result.message} (line ${result.line + Number(p.lineOffset ?? 0)}, column ${result.column})`);
          this.tracebacks.register(String(p.filename), result.cell.sourceMap, result.cell.lineOneOffset, String(p.code), Number(p.lineOffset ?? 0), `Cell In[${this.executionCount}]`);
          return result.cell;
        }
        case 'history':
          return this.history.magic((p.argv as string[]) ?? []);
        case 'typecheck':
          if (p.mode) this.mode = p.mode as TypecheckMode;
          return this.mode;
        case 'declare':
          // Not awaited (a cell must not wait for the language service's warm-up); later checks follow it in order.
          void this.language.declareGlobal(String(p.name), String(p.type ?? 'any')).catch((error: Error) => this.log('warn', `declare failed: ${error.message}`));
          return undefined;
        case 'reset':
          this.tracebacks.clear();
          return this.language.reset();
        case 'chdir':
          return this.changeDirectory(String(p.dir ?? '~'));
        default:
          throw new Error(`the kernel has no service "${method}"`);
      }
    });
  }

  private async changeDirectory(dir: string): Promise<string> {
    const target = dir === '-' ? this.previousDir ?? process.cwd() : dir.startsWith('~') ? path.join(os.homedir(), dir.slice(1)) : dir;
    const before = process.cwd();
    try {
      process.chdir(path.resolve(target));
    } catch (error) {
      throw new Error(`%cd: cannot change to ${target}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    this.previousDir = before;
    await this.language.setCwd(process.cwd());
    return process.cwd();
  }

  // ---- stdin ---------------------------------------------------------------------------------

  private pendingInput: { resolve: (value: string) => void; reject: (error: Error) => void } | undefined;

  private askInput(prompt: string, password: boolean): Promise<string> {
    const parent = this.currentParent;
    if (!parent || !this.currentAllowStdin) {
      return Promise.reject(new Error('StdinNotImplementedError: input() was called, but this frontend does not support input requests (allow_stdin is false)'));
    }
    return new Promise((resolve, reject) => {
      this.pendingInput = { resolve, reject };
      void this.sockets.send('stdin', childMessage(parent, 'input_request', { prompt, password }, this.session));
    });
  }

  private stdinReply(message: Message): void {
    if (message.header.msg_type !== 'input_reply') {
      this.log('warn', `stdin: unexpected ${message.header.msg_type}`);
      return;
    }
    const waiter = this.pendingInput;
    this.pendingInput = undefined;
    waiter?.resolve(String(message.content.value ?? ''));
  }

  // ---- complete / inspect / history / comms ------------------------------------------------

  private async complete(message: Message): Promise<void> {
    const code = String(message.content.code ?? '');
    const cursor = typeof message.content.cursor_pos === 'number' ? message.content.cursor_pos : code.length;
    const magicCompletion = this.completeMagic(code, cursor);
    const result = magicCompletion ?? (await this.language.complete(blankMagicLines(code), cursor));
    await this.reply('shell', message, 'complete_reply', {
      status: 'ok',
      matches: result.matches,
      cursor_start: result.cursorStart,
      cursor_end: result.cursorEnd,
      metadata: { _jupyter_types_experimental: result.items },
    });
  }

  /** Completes `%na` / `%%na` at the start of a line with magic names. */
  private completeMagic(code: string, cursor: number): { matches: string[]; cursorStart: number; cursorEnd: number; items: Array<{ start: number; end: number; text: string; type: string }> } | undefined {
    const lineStart = code.lastIndexOf('\n', cursor - 1) + 1;
    const prefix = code.slice(lineStart, cursor);
    const match = /^\s*(%%?)([\w.-]*)$/.exec(prefix);
    if (!match) return undefined;
    const names = match[1] === '%%' ? this.executor.magics.cell : this.executor.magics.line;
    const start = cursor - match[1].length - match[2].length;
    const matches = names.filter((name) => name.startsWith(match[2])).map((name) => match[1] + name);
    return { matches, cursorStart: start, cursorEnd: cursor, items: matches.map((text) => ({ start, end: cursor, text, type: 'magic' })) };
  }


  private async inspect(message: Message): Promise<void> {
    const code = String(message.content.code ?? '');
    const cursor = typeof message.content.cursor_pos === 'number' ? message.content.cursor_pos : code.length;
    const detail = message.content.detail_level === 1 ? 1 : 0;
    const result = await this.language.inspect(blankMagicLines(code), cursor, detail);
    await this.reply('shell', message, 'inspect_reply', {
      status: 'ok',
      found: result.found,
      data: result.found ? { 'text/plain': result.plain, 'text/markdown': result.markdown } : {},
      metadata: {},
    });
  }

  private async historyReply(message: Message): Promise<void> {
    const query = message.content as unknown as HistoryQuery;
    const entries = this.history.query(query);
    const history = entries.map((entry) => (query.output ? [entry.session, entry.line, [entry.source, entry.output ?? null]] : [entry.session, entry.line, entry.source]));
    await this.reply('shell', message, 'history_reply', { status: 'ok', history });
  }

  private async commInfo(message: Message): Promise<void> {
    const target = typeof message.content.target_name === 'string' ? message.content.target_name : undefined;
    const comms: Record<string, { target_name: string }> = {};
    for (const [id, name] of this.comms) if (!target || name === target) comms[id] = { target_name: name };
    await this.reply('shell', message, 'comm_info_reply', { status: 'ok', comms });
  }

  private async commFromFrontend(message: Message): Promise<void> {
    const content = message.content as { comm_id?: string; target_name?: string; data?: Record<string, unknown> };
    if (typeof content.comm_id !== 'string') {
      this.log('warn', `${message.header.msg_type} without comm_id dropped`);
      return;
    }
    const event = message.header.msg_type.slice(5) as CommMessage['event'];
    if (event === 'open') this.comms.set(content.comm_id, content.target_name ?? '');
    if (event === 'close') this.comms.delete(content.comm_id);
    await this.executorReady;
    this.currentParent = message;
    this.currentSilent = false;
    await this.executor.comm({
      type: 'comm',
      event,
      commId: content.comm_id,
      targetName: content.target_name,
      data: content.data ?? {},
      metadata: message.metadata,
      buffers: message.buffers,
    });
  }

  // ---- interrupt / shutdown ------------------------------------------------------------------

  /** Interrupts the running cell (SIGINT or interrupt_request); state is kept. */
  async interrupt(): Promise<void> {
    this.pendingInput?.reject(Object.assign(new Error('Interrupted while waiting for input'), { name: 'KeyboardInterrupt' }));
    this.pendingInput = undefined;
    if (!this.executor.busy) {
      // Still compiling or type-checking: the cell must not start (as IPython raises
      // KeyboardInterrupt wherever the cell is).
      if (this.executing) this.interruptPending = true;
      else if (this.received > this.handled) this.interruptQueuedThrough = this.received;
      return;
    }
    try {
      await this.executor.interrupt();
    } catch (error) {
      this.log('error', `interrupt failed: ${(error as Error).message}`);
    }
  }

  private async shutdown(channel: 'shell' | 'control', message: Message): Promise<void> {
    const restart = Boolean(message.content.restart);
    this.shuttingDown = true;
    await this.reply(channel, message, 'shutdown_reply', { status: 'ok', restart });
    await this.publish(message, 'status', { execution_state: 'idle' });
    await Promise.race([Promise.all([this.executor.stop(), this.language.stop(), this.compiler.stop()]), new Promise((resolve) => setTimeout(resolve, 1000))]);
    this.options.onShutdown?.(restart);
  }
}
