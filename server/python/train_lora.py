#!/usr/bin/env python3
"""Local LoRA fine-tune on CPU for the orchestrator's `local` trainer (server/src/adapters/training/).

usage: python train_lora.py CONFIG.json

CONFIG: {"train": path, "validation": path, "outputDir": path, "baseModel": "tiny-llama",
         "hyperparameters": {"rank", "alpha", "dropout", "targetModules", "learningRate", "steps",
                             "batchSize", "maxSeqLength", "evalEvery", "seed"}}
The data files are the dataset version's OpenAI chat JSONL (`openai/train.jsonl`, `openai/validation.jsonl`).
The base model is built locally, never downloaded: a byte-level BPE tokenizer trained on the training rows
and a 2-layer Llama from a config (as in the shared recipe), saved to OUT/base. LoRA (peft) trains the
assistant turns only. Progress goes to stdout as JSON lines:
  {"event":"start",...} {"event":"step","step":n,"loss":x} {"event":"eval","step":n,"validationLoss":x}
  {"event":"done","metrics":{...}}
On success OUT holds base/ (tokenizer + model), adapter/ (adapter_model.safetensors, adapter_config.json)
and metrics.json. SIGTERM stops at the next step with exit code 143 and writes no adapter.
Errors: one line on stderr starting with `error:` and exit code 2 (bad data) or 1.
"""
import json, os, random, signal, sys, time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

stop = {"requested": False}
signal.signal(signal.SIGTERM, lambda *_: stop.update(requested=True))


def emit(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


def die(msg, code=2):
    sys.stderr.write(f"error: {msg}\n")
    sys.stderr.flush()
    sys.exit(code)


ROLES = ("system", "user", "assistant", "tool")


def read_rows(path, name):
    rows = []
    if not os.path.exists(path):
        die(f"{name}: {path} does not exist")
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except ValueError as e:
                die(f"{name}:{n}: not JSON ({e})")
            msgs = r.get("messages") if isinstance(r, dict) else None
            if not isinstance(msgs, list) or not msgs:
                die(f"{name}:{n}: messages must be a non-empty list")
            for k, m in enumerate(msgs):
                if not isinstance(m, dict) or m.get("role") not in ROLES:
                    die(f"{name}:{n}: messages[{k}].role must be one of {', '.join(ROLES)}")
            rows.append(msgs)
    return rows


def render(m):
    """A message as the text the tiny model sees: its content, then its tool calls as JSON."""
    text = m.get("content") or ""
    if not isinstance(text, str):
        text = json.dumps(text)
    for c in m.get("tool_calls") or []:
        f = c.get("function", {})
        text += json.dumps({"tool": f.get("name"), "arguments": f.get("arguments")})
    return text


def main():
    if len(sys.argv) != 2:
        die("usage: train_lora.py CONFIG.json", 1)
    cfg = json.load(open(sys.argv[1], encoding="utf-8"))
    hp = cfg["hyperparameters"]
    out = cfg["outputDir"]
    train_rows = read_rows(cfg["train"], "train.jsonl")
    val_rows = read_rows(cfg["validation"], "validation.jsonl") if cfg.get("validation") else []
    if not train_rows:
        die("train.jsonl: no training examples")
    if not any(m["role"] == "assistant" for r in train_rows for m in r):
        die("train.jsonl: no assistant turn to learn from")

    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    from peft import LoraConfig, get_peft_model

    seed = int(hp.get("seed", 0))
    random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(int(os.environ.get("ORCH_TRAIN_THREADS", "1")))  # 2 threads on a busy 2-core box: 15x slower
    t0 = time.time()

    # Tokenizer and base model, built here (no download), saved so base + adapter can be loaded later.
    specials = ["<pad>", "<s>", "</s>"] + [f"<|{r}|>" for r in ROLES]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=int(hp.get("vocabSize", 320)), special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator((render(m) for r in train_rows for m in r), trainer=trainer)
    template = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
                "{% if add_generation_prompt %}<|assistant|>{% endif %}")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                        chat_template=template)
    base_dir = os.path.join(out, "base")
    os.makedirs(base_dir, exist_ok=True)
    tokenizer.save_pretrained(base_dir)
    max_len = int(hp.get("maxSeqLength", 256))
    mcfg = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=4, vocab_size=len(tokenizer), max_position_embeddings=max_len,
                       bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                       pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False, initializer_range=0.1)
    model = LlamaForCausalLM(mcfg)
    model.save_pretrained(base_dir)

    def encode(msgs):
        ids, labels = [], []
        for m in msgs:
            seg = tokenizer(f"<|{m['role']}|>" + render(m) + "</s>", add_special_tokens=False)["input_ids"]
            ids += seg
            learn = m["role"] == "assistant" and m.get("weight", 1) != 0
            labels += seg if learn else [-100] * len(seg)
        # Keep the end of long conversations (their last answers), within the model's length.
        return ids[-max_len:], labels[-max_len:]

    def tensors(rows):
        enc = [e for e in (encode(r) for r in rows) if any(x != -100 for x in e[1])]
        if not enc:
            return None
        L = max(len(i) for i, _ in enc)
        ids = torch.full((len(enc), L), tokenizer.pad_token_id)
        lab = torch.full((len(enc), L), -100)
        att = torch.zeros((len(enc), L), dtype=torch.long)
        for k, (i, l) in enumerate(enc):
            ids[k, :len(i)] = torch.tensor(i)
            lab[k, :len(l)] = torch.tensor(l)
            att[k, :len(i)] = 1
        return ids, lab, att

    train = tensors(train_rows)
    if train is None:
        die("train.jsonl: no example has a learnable assistant turn within maxSeqLength")
    val = tensors(val_rows) if val_rows else None
    model = get_peft_model(model, LoraConfig(r=int(hp["rank"]), lora_alpha=int(hp["alpha"]), lora_dropout=float(hp["dropout"]),
                                             target_modules=list(hp["targetModules"]), task_type="CAUSAL_LM"))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    emit(event="start", trainExamples=int(train[0].shape[0]), validationExamples=int(val[0].shape[0]) if val else 0,
         trainableParameters=trainable, totalParameters=total, vocabSize=len(tokenizer), sequenceLength=int(train[0].shape[1]))

    def val_loss():
        if val is None:
            return None
        model.eval()
        with torch.no_grad():
            r = model(input_ids=val[0], attention_mask=val[2], labels=val[1]).loss.item()
        model.train()
        return r

    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=float(hp["learningRate"]))
    steps, batch, every = int(hp["steps"]), int(hp["batchSize"]), int(hp.get("evalEvery", 10))
    first_val = val_loss()
    if first_val is not None:
        emit(event="eval", step=0, validationLoss=first_val)
    model.train()
    losses, last_val = [], first_val
    n = train[0].shape[0]
    parent = os.getppid()
    for step in range(1, steps + 1):
        if os.getppid() != parent:  # the server died (even by SIGKILL): do not train on as an orphan
            sys.exit(143)
        if stop["requested"]:
            emit(event="cancelled", step=step - 1)
            sys.exit(143)
        b = torch.randint(0, n, (min(batch, n) if batch > 0 else n,))
        loss = model(input_ids=train[0][b], attention_mask=train[2][b], labels=train[1][b]).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
        emit(event="step", step=step, loss=losses[-1])
        if val is not None and (step % every == 0 or step == steps):
            last_val = val_loss()
            emit(event="eval", step=step, validationLoss=last_val)
    if stop["requested"]:
        emit(event="cancelled", step=steps)
        sys.exit(143)
    adapter_dir = os.path.join(out, "adapter")
    model.save_pretrained(adapter_dir)
    k = max(1, min(5, len(losses)))
    metrics = {
        "steps": len(losses),
        "firstLoss": sum(losses[:k]) / k,
        "finalLoss": sum(losses[-k:]) / k,
        "initialValidationLoss": first_val,
        "validationLoss": last_val,
        "trainExamples": int(n),
        "validationExamples": int(val[0].shape[0]) if val else 0,
        "trainableParameters": trainable,
        "seconds": round(time.time() - t0, 2),
    }
    with open(os.path.join(out, "metrics.json"), "w", encoding="utf-8") as fh:
        json.dump(metrics, fh, indent=2)
    emit(event="done", metrics=metrics, adapter=sorted(os.listdir(adapter_dir)))


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - one clear line for the caller, then a non-zero exit
        die(f"{type(e).__name__}: {e}", 1)
