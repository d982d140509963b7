/**
 * Realistic secret formats for tests and the bench: freshly generated (seeded, so runs repeat) in the
 * shapes real providers issue, never real credentials. Each entry is how it would appear in a transcript.
 */

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

const upperDigits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const b64 = `${alnum}+/`;
const b64url = `${alnum}_-`;

export interface PlantedSecret {
  kind: string;
  /** The secret itself (what must never reach an export). */
  secret: string;
  /** A line of transcript text carrying it. */
  text: string;
}

export function secretCorpus(seed = 1): PlantedSecret[] {
  const r = rng(seed);
  const pick = (chars: string, n: number) => Array.from({ length: n }, () => chars[Math.floor(r() * chars.length)]).join('');
  const pem = (label: string) => {
    const body = `MII${pick(b64, 61)}\n${Array.from({ length: 6 }, () => pick(b64, 64)).join('\n')}`;
    return `-----BEGIN ${label}PRIVATE KEY-----\n${body}\n-----END ${label}PRIVATE KEY-----`;
  };
  const awsId = `AKIA${pick(upperDigits, 16)}`;
  const awsSecret = pick(b64, 40);
  const entries: [string, string, (s: string) => string][] = [
    ['aws-access-key-id', awsId, (s) => `export AWS_ACCESS_KEY_ID=${s}`],
    ['aws-secret-access-key', awsSecret, (s) => `AWS_SECRET_ACCESS_KEY="${s}"`],
    ['github-classic', `ghp_${pick(alnum, 36)}`, (s) => `git remote set-url origin https://${s}@github.com/acme/app.git`],
    ['github-fine-grained', `github_pat_${pick(alnum, 82)}`, (s) => `GITHUB_TOKEN=${s}`],
    ['github-oauth', `gho_${pick(alnum, 36)}`, (s) => `token: ${s}`],
    ['slack-bot', `xoxb-${pick('0123456789', 12)}-${pick('0123456789', 13)}-${pick(alnum, 24)}`, (s) => `SLACK_BOT_TOKEN=${s}`],
    [
      'slack-webhook',
      `https://hooks.slack.com/services/T${pick(upperDigits, 8)}/B${pick(upperDigits, 10)}/${pick(alnum, 24)}`,
      (s) => `curl -X POST ${s}`,
    ],
    ['openai-project', `sk-proj-${pick(b64url, 74)}T3BlbkFJ${pick(b64url, 74)}`, (s) => `OPENAI_API_KEY=${s}`],
    ['openai-legacy', `sk-${pick(alnum, 20)}T3BlbkFJ${pick(alnum, 20)}`, (s) => `openai.api_key = "${s}"`],
    ['anthropic', `sk-ant-api03-${pick(b64url, 93)}AA`, (s) => `ANTHROPIC_API_KEY=${s}`],
    ['rsa-private-key', pem('RSA '), (s) => `cat ~/.ssh/id_rsa\n${s}`],
    ['private-key', pem(''), (s) => `key.pem:\n${s}`],
    ['basic-auth-url', `https://deploy:${pick(alnum, 16)}@registry.example.com`, (s) => `npm config set registry ${s}/npm/`],
    ['postgres-url', `postgres://app:${pick(alnum, 18)}@db.internal.example.com:5432/prod`, (s) => `DATABASE_URL=${s}`],
    ['npm-token', `npm_${pick(alnum, 36)}`, (s) => `//registry.npmjs.org/:_authToken=${s}`],
    ['stripe-live', `sk_live_${pick(alnum, 32)}`, (s) => `stripe.apiKey = '${s}';`],
    ['sendgrid', `SG.${pick(b64url.replace('-', ''), 22)}.${pick(b64url.replace('-', ''), 43)}`, (s) => `SENDGRID_API_KEY=${s}`],
    ['huggingface', `hf_${pick(letters, 34)}`, (s) => `HF_TOKEN=${s}`],
    ['gitlab', `glpat-${pick(alnum, 20)}`, (s) => `GITLAB_TOKEN=${s}`],
    ['groq', `gsk_${pick(alnum, 52)}`, (s) => `GROQ_API_KEY=${s}`],
  ];
  return entries.map(([kind, secret, line]) => ({ kind, secret, text: line(secret) }));
}
