/**
 * A hosted job survives the server: the trainer reports the remote job id as soon as it exists (`remote`
 * events, mapped to our states), and a second trainer given that id resumes polling it to its end without
 * creating another remote job. Against the real scripted stand-in server, for each of the three shapes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defaultHyperparameters, type TrainerEvent } from '../../domain/finetune/job';
import type { TrainingSpec } from '../../ports/trainer';
import { startScriptedFineTune } from '../scriptedModel/scriptedFineTune';
import { HostedTrainer } from './hostedTrainer';

const key = 'sk-resume-SECRET-777';
const row = JSON.stringify({
  messages: [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello' },
  ],
});

function spec(): TrainingSpec {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hosted-resume-'));
  writeFileSync(path.join(dir, 'train.jsonl'), `${row}\n${row}\n`);
  return {
    jobId: 'ft-res',
    trainFile: path.join(dir, 'train.jsonl'),
    outputDir: path.join(dir, 'out'),
    baseModel: 'tiny-llama',
    hyperparameters: defaultHyperparameters,
  };
}

const creates = /^POST \/v1\/(fine_tuning\/jobs|fine-tunes|accounts\/acct\/supervisedFineTuningJobs)$/;

for (const shape of ['openai-compatible', 'together', 'fireworks'] as const) {
  test(`${shape}: the remote job id is reported at once, and a new trainer resumes polling it without a second create`, async () => {
    const remote = await startScriptedFineTune({ apiKey: key, runningPolls: 6 });
    try {
      const make = () =>
        new HostedTrainer({
          shape,
          baseURL: remote.url,
          apiKey: key,
          accountId: 'acct',
          remoteModel: 'base-model-1',
          pollMs: 10,
          maxPollMs: 20,
          deadlineMs: 10_000,
        });
      const first = make();
      const s = spec();
      const events: TrainerEvent[] = [];
      let seenRemote!: () => void;
      const remoteSeen = new Promise<void>((r) => (seenRemote = r));
      const h1 = first.start(s, (e) => {
        events.push(e);
        if (e.event === 'remote' && e.state === 'running') seenRemote();
      });
      await Promise.race([
        remoteSeen,
        new Promise((_, rej) => setTimeout(() => rej(new Error('no running remote event within 5 s')), 5000)),
      ]);
      const reported = events.find((e) => e.event === 'remote');
      assert.ok(reported && reported.event === 'remote');
      assert.match(reported.remoteJobId, /^job\d+$/);
      // The server stops: polling ends, the remote job keeps running.
      await first.dispose();
      const o1 = await h1.outcome;
      assert.equal(o1.kind, 'failed', 'a stopped trainer does not claim an end');

      const second = make();
      const resumed: TrainerEvent[] = [];
      const o2 = await second.start({ ...s, remoteJobId: reported.remoteJobId }, (e) => resumed.push(e)).outcome;
      assert.equal(o2.kind, 'succeeded', JSON.stringify(o2));
      if (o2.kind === 'succeeded') assert.ok(o2.providerModelId?.includes(shape === 'fireworks' ? 'models/' : reported.remoteJobId));
      const created = remote.requests.filter((q) => creates.test(`${q.method} ${q.path}`));
      assert.equal(created.length, 1, `one remote job was created: ${JSON.stringify(remote.requests.map((q) => `${q.method} ${q.path}`))}`);
      assert.ok(resumed.some((e) => e.event === 'remote' && e.state === 'succeeded' && e.remoteJobId === reported.remoteJobId));
      assert.ok(!JSON.stringify([events, resumed, o1, o2]).includes(key));
    } finally {
      await remote.close();
    }
  });
}
