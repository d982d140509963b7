/**
 * The dataset curator panel: one at a time. It keeps the curator's choices (the query, excluded runs,
 * edits), asks the server for the runs the query takes (`dataset/candidates`) and how they would be curated
 * (`dataset/preview`, nothing written), and sends complete snapshots (`curatorModel.ts`). Export writes the
 * version with the choices (`dataset/create`) and shows its files; "Create fine-tune job" submits
 * `finetune/submit` on the exported version and follows the job with `finetune/get` until it ends.
 */
import * as vscode from 'vscode';
import type { DatasetCandidate, DatasetExample, DatasetRecord } from '../../../protocol/dataset';
import { datasetCandidates, datasetCreate, datasetPreview, finetuneGet, finetuneSubmit } from '../../../protocol/methodRefs';
import type { CuratorToHost } from '../../../protocol/webview/curator';
import { emptyCuratorQuery } from '../../../protocol/constants';
import type { Ctx } from '../ctx';
import {
  choicesOf,
  curationFor,
  curatorSnapshot,
  filterOf,
  jobEnded,
  rowsOf,
  selectedOf,
  titleOf,
  type CuratorState,
} from './curatorModel';
import { parseWebviewMessage, webviewHtml, webviewOptions } from './panelHost';

export const curatorViewType = 'orchestrator.curator';

const jobPollMs = 1500;

export class CuratorPanels implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly received = new vscode.EventEmitter<CuratorToHost>();
  /** Every valid message from the curator webview. */
  readonly onDidReceive = this.received.event;
  private readonly excluded = new Set<string>();
  private readonly edits = new Map<string, Map<number, string>>();
  private readonly titles = new Map<string, string>();
  private candidates: DatasetCandidate[] = [];
  private records: DatasetRecord[] = [];
  private examples: DatasetExample[] = [];
  private selectedId: string | undefined;
  private state: CuratorState = {
    query: emptyCuratorQuery,
    agents: [],
    models: [],
    rows: [],
    selected: null,
    stats: null,
    warnings: [],
    busy: 'loading',
    exported: null,
    job: null,
  };
  private seq = 0;
  private loads = 0;
  private poll: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly ctx: Ctx) {}

  open(): vscode.WebviewPanel {
    if (this.panel) {
      this.panel.reveal();
      return this.panel;
    }
    const title = vscode.l10n.t('Dataset Curator');
    const panel = vscode.window.createWebviewPanel(
      curatorViewType,
      title,
      vscode.ViewColumn.Active,
      webviewOptions(this.ctx.extension.extensionUri),
    );
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media', 'orchestrator.svg');
    const subs = [
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const msg = parseWebviewMessage((s) => s.curatorToHost, raw, this.ctx.log);
        if (!msg) return;
        this.handle(msg);
        this.received.fire(msg);
      }),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.panel = undefined;
        clearTimeout(this.poll);
        subs.forEach((d) => d.dispose());
      }),
    ];
    panel.webview.html = webviewHtml(panel.webview, this.ctx.extension.extensionUri, 'curator', title);
    return panel;
  }

  private handle(msg: CuratorToHost): void {
    if (msg.type === 'webview/ready') void this.refresh();
    if (msg.type === 'curator/query') {
      this.state.query = msg.query;
      void this.refresh();
    }
    if (msg.type === 'curator/select') {
      this.selectedId = msg.runId ?? undefined;
      this.derive();
      this.post();
    }
    if (msg.type === 'curator/exclude') {
      if (msg.excluded) this.excluded.add(msg.runId);
      else this.excluded.delete(msg.runId);
      this.ctx.log.info(`curator: ${msg.excluded ? 'excluded' : 'included'} run ${msg.runId}`);
      void this.refresh();
    }
    if (msg.type === 'curator/edit') {
      const byMessage = this.edits.get(msg.runId) ?? new Map<number, string>();
      if (msg.content === null) byMessage.delete(msg.message);
      else byMessage.set(msg.message, msg.content);
      if (byMessage.size) this.edits.set(msg.runId, byMessage);
      else this.edits.delete(msg.runId);
      this.ctx.log.info(`curator: ${msg.content === null ? 'undid the edit of' : 'edited'} message ${msg.message} of run ${msg.runId}`);
      void this.refresh();
    }
    if (msg.type === 'curator/export') void this.export(msg.name, msg.formats);
    if (msg.type === 'curator/finetune') void this.fineTune(msg);
  }

  private post(): void {
    if (this.panel) void this.panel.webview.postMessage(curatorSnapshot(this.state, ++this.seq, this.ctx.role === 'viewer'));
  }

  private derive(): void {
    for (const e of this.examples) this.titles.set(e.source, titleOf(e, ''));
    this.state.rows = rowsOf(this.candidates, this.records, this.examples, this.excluded, this.titles);
    this.state.selected = selectedOf(this.selectedId, this.state.rows, this.records, this.examples);
  }

  private curation() {
    return curationFor(
      this.candidates.map((c) => c.runId),
      this.excluded,
      this.edits,
    );
  }

  /** Reads the candidates of the query and their curation again (the newest call wins). */
  private async refresh(): Promise<void> {
    const load = ++this.loads;
    this.state.busy = 'loading';
    this.post();
    try {
      const filter = filterOf(this.state.query);
      const [taken, all] = await Promise.all([
        this.ctx.request(datasetCandidates, { filter, limit: 10_000 }),
        this.ctx.request(datasetCandidates, { filter: { outcomes: ['succeeded', 'failed', 'cancelled'] }, limit: 10_000 }),
      ]);
      if (load !== this.loads) return;
      this.candidates = taken.candidates;
      Object.assign(this.state, choicesOf(all.candidates));
      const curation = this.curation();
      const preview = this.candidates.length
        ? await this.ctx.request(datasetPreview, { filter, ...(curation ? { curation } : {}) })
        : { records: [], examples: [], stats: null, warnings: [] };
      if (load !== this.loads) return;
      this.records = preview.records;
      this.examples = preview.examples;
      this.state.stats = preview.stats;
      this.state.warnings = preview.warnings;
      this.state.error = undefined;
    } catch (e) {
      if (load !== this.loads) return;
      this.state.error = (e as Error).message;
      this.state.errorAt = 'list';
      this.ctx.log.warn(`curator: could not read the candidates: ${this.state.error}`);
    }
    this.state.busy = null;
    this.derive();
    this.post();
  }

  private async export(name: string, formats: ('openai' | 'sharegpt' | 'mlx')[]): Promise<void> {
    if (this.state.busy === 'exporting') return;
    this.state.busy = 'exporting';
    this.state.error = undefined;
    this.post();
    try {
      const curation = this.curation();
      const v = await this.ctx.request(datasetCreate, {
        name,
        filter: filterOf(this.state.query),
        formats,
        ...(curation ? { curation } : {}),
      });
      this.state.exported = { name: v.name, id: v.id, files: v.files };
      this.ctx.log.info(`curator: exported dataset ${v.name} (${v.id}): ${v.files.map((f) => f.path).join(', ')}`);
    } catch (e) {
      this.state.error = (e as Error).message;
      this.state.errorAt = 'export';
      this.ctx.log.warn(`curator: export failed: ${this.state.error}`);
    }
    this.state.busy = null;
    this.post();
  }

  private async fineTune(spec: { modelName: string; steps: number; rank: number; learningRate: number }): Promise<void> {
    const dataset = this.state.exported?.name;
    if (!dataset) {
      this.state.error = vscode.l10n.t('Export the dataset first: a fine-tune job trains on an exported version.');
      this.state.errorAt = 'finetune';
      return this.post();
    }
    this.state.busy = 'submitting';
    this.state.error = undefined;
    this.post();
    try {
      this.state.job = await this.ctx.request(finetuneSubmit, {
        dataset,
        modelName: spec.modelName,
        // Validation loss every 10 steps, or once at the end of a shorter job.
        hyperparameters: { steps: spec.steps, rank: spec.rank, learningRate: spec.learningRate, evalEvery: Math.min(10, spec.steps) },
        idempotencyKey: `curator:${this.state.exported?.id}:${spec.modelName}:${spec.steps}:${spec.rank}:${spec.learningRate}`,
      });
      this.ctx.log.info(`curator: fine-tune job ${this.state.job.id} on ${dataset}: ${this.state.job.state}`);
      this.followJob(this.state.job.id);
    } catch (e) {
      this.state.error = (e as Error).message;
      this.state.errorAt = 'finetune';
      this.ctx.log.warn(`curator: fine-tune submit failed: ${this.state.error}`);
    }
    this.state.busy = null;
    this.post();
  }

  private followJob(jobId: string): void {
    clearTimeout(this.poll);
    if (!this.panel || !this.state.job || jobEnded(this.state.job)) return;
    this.poll = setTimeout(() => {
      void this.ctx.request(finetuneGet, { jobId }).then(
        (job) => {
          if (this.state.job?.id !== jobId) return;
          this.state.job = job;
          this.post();
          this.followJob(jobId);
        },
        (e: unknown) => this.ctx.log.warn(`curator: could not read job ${jobId}: ${(e as Error).message}`),
      );
    }, jobPollMs);
  }

  dispose(): void {
    clearTimeout(this.poll);
    this.panel?.dispose();
    this.received.dispose();
  }
}
