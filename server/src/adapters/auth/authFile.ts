/**
 * `<data>/auth.json`: the team server's tenants, users and hashed API keys. Changes (the admin CLI) run
 * under `<data>/auth.lock` (taken with a deadline; a lock whose pid is dead is taken over) and are written
 * atomically, so a server reading the file never sees half a change. The server re-reads the file when it
 * changed on disk, so a revoked key stops working without a restart.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describeIssues } from '../../../../protocol/messages';
import { accountsSchema, checkKey, emptyAccounts, formatKey, principalOf, type Accounts, type KeyCheck } from '../../domain/auth/accounts';
import { DomainError } from '../../domain/errors';
import { writeFileAtomic } from '../fs/atomicFile';

const lockDeadlineMs = 10_000;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function secretMatches(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A new key: its id, the whole key to show once, and the hash to store. */
export function newKey(): { id: string; key: string; hash: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, key: formatKey(id, secret), hash: hashSecret(secret) };
}

export function newUserId(): string {
  return `u_${randomBytes(6).toString('hex')}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class AuthFile {
  readonly file: string;
  private readonly lockFile: string;
  private cached: { stamp: string; accounts: Accounts } | undefined;

  constructor(readonly dataDir: string) {
    this.file = path.join(dataDir, 'auth.json');
    this.lockFile = path.join(dataDir, 'auth.lock');
  }

  /** The accounts on disk (an absent file is empty); a file that does not validate is an error naming the field. */
  async read(): Promise<Accounts> {
    let stat;
    try {
      stat = await fs.stat(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyAccounts();
      throw e;
    }
    const stamp = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    if (this.cached?.stamp === stamp) return this.cached.accounts;
    const text = await fs.readFile(this.file, 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new DomainError('store_corrupt', `${this.file} is not JSON: ${(e as Error).message}`);
    }
    const parsed = accountsSchema.safeParse(json);
    if (!parsed.success) throw new DomainError('store_corrupt', `${this.file} does not match its schema: ${describeIssues(parsed.error)}`);
    this.cached = { stamp, accounts: parsed.data };
    return parsed.data;
  }

  /** Applies `change` under the lock and writes the result atomically; returns what `change` returned. */
  async update<T>(change: (a: Accounts) => { accounts: Accounts; result: T }): Promise<T> {
    await fs.mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    const release = await this.lock();
    try {
      const { accounts, result } = change(await this.read());
      await writeFileAtomic(this.file, `${JSON.stringify(accounts, null, 2)}\n`);
      await fs.chmod(this.file, 0o600);
      return result;
    } finally {
      await release();
    }
  }

  async check(presented: string, now = Date.now()): Promise<KeyCheck> {
    return checkKey(await this.read(), presented, secretMatches, now);
  }

  async recheck(keyId: string, now = Date.now()): Promise<KeyCheck> {
    return principalOf(await this.read(), keyId, now);
  }

  private async lock(): Promise<() => Promise<void>> {
    const deadline = Date.now() + lockDeadlineMs;
    for (;;) {
      try {
        const h = await fs.open(this.lockFile, 'wx', 0o600);
        await h.writeFile(JSON.stringify({ pid: process.pid }));
        await h.close();
        return () => fs.rm(this.lockFile, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let pid = 0;
      try {
        pid = Number(JSON.parse(await fs.readFile(this.lockFile, 'utf8')).pid) || 0;
      } catch {
        // Torn or vanished: looked at again below.
      }
      if (pid && !alive(pid)) {
        await fs.rm(this.lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new DomainError('timeout', `${this.lockFile} is held by pid ${pid || 'unknown'} for more than ${lockDeadlineMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
