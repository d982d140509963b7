#!/usr/bin/env python3
"""Evaluates a LoRA model version against its base on held-out validation examples (server/src/adapters/training/).

usage: python eval_lora.py CONFIG.json

CONFIG: {"validation": path, "baseDir": path, "adapterDir": path, "maxSeqLength": int,
         "maxNewTokens": int, "maxTurns": int}
The validation file is the dataset version's OpenAI chat JSONL (`openai/validation.jsonl`). Both models (the
base alone, and base + adapter) are scored the same way:
- validationLoss: mean cross-entropy on the assistant turns (the training script's encoding), and perplexity;
- tool calls: for each assistant turn that called tools (at most maxTurns), the model continues the conversation
  before it (greedy, maxNewTokens); the calls it writes (`{"tool": name, "arguments": "<json>"}`, the training
  rendering) are valid when the name is one of the example's tools and the arguments parse as a JSON object
  matching that tool's parameter schema; a turn is an exact match when its calls equal the reference's.
stdout: one JSON line {"event":"done","scores":{"examples","turns","candidate":{...},"base":{...},"seconds"}}.
Errors: one line on stderr starting with `error:` and exit code 2 (bad data) or 1.
"""
import json, math, os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_lora import die, emit, read_rows, render  # noqa: E402  (same rendering and row checks as training)

import signal  # noqa: E402

signal.signal(signal.SIGTERM, signal.SIG_DFL)  # train_lora defers SIGTERM to its step loop; here it ends the process

TYPES = {"string": str, "boolean": bool, "object": dict, "array": list}


def schema_ok(args, schema):
    """A small JSON Schema check: object, required keys, property types, additionalProperties false."""
    if not isinstance(args, dict):
        return False
    if not isinstance(schema, dict):
        return True
    props = schema.get("properties") or {}
    for k in schema.get("required") or []:
        if k not in args:
            return False
    for k, v in args.items():
        p = props.get(k)
        if p is None:
            if schema.get("additionalProperties") is False:
                return False
            continue
        t = p.get("type") if isinstance(p, dict) else None
        if t in TYPES and not isinstance(v, TYPES[t]):
            return False
        if t == "integer" and (not isinstance(v, int) or isinstance(v, bool)):
            return False
        if t == "number" and (not isinstance(v, (int, float)) or isinstance(v, bool)):
            return False
    return True


def parse_args(a):
    if isinstance(a, dict):
        return a
    if isinstance(a, str):
        try:
            v = json.loads(a)
        except ValueError:
            return None
        return v if isinstance(v, dict) else None
    return None


def calls_in(text):
    """The `{"tool": ..., "arguments": ...}` objects written in generated text, in order."""
    dec, out, i = json.JSONDecoder(), [], 0
    while True:
        i = text.find("{", i)
        if i < 0:
            return out
        try:
            obj, end = dec.raw_decode(text, i)
        except ValueError:
            i += 1
            continue
        if isinstance(obj, dict) and "tool" in obj:
            out.append(obj)
        i = end


def main():
    if len(sys.argv) != 2:
        die("usage: eval_lora.py CONFIG.json", 1)
    cfg = json.load(open(sys.argv[1], encoding="utf-8"))
    if not cfg.get("validation"):
        die("validation: the dataset version has no held-out validation examples")
    rows = read_rows(cfg["validation"], "validation.jsonl")
    if not rows:
        die("validation.jsonl: no held-out validation examples")
    raw = [json.loads(line) for line in open(cfg["validation"], encoding="utf-8") if line.strip()]
    tools_of = [{(t.get("function") or {}).get("name"): (t.get("function") or {}).get("parameters") for t in (r.get("tools") or [])}
                for r in raw]
    max_len = int(cfg.get("maxSeqLength", 256))
    max_new = int(cfg.get("maxNewTokens", 48))
    max_turns = int(cfg.get("maxTurns", 16))

    import torch
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast
    from peft import PeftModel

    torch.manual_seed(0)
    torch.set_num_threads(int(os.environ.get("ORCH_TRAIN_THREADS", "1")))
    t0 = time.time()
    tokenizer = PreTrainedTokenizerFast.from_pretrained(cfg["baseDir"])
    base = LlamaForCausalLM.from_pretrained(cfg["baseDir"])
    model = PeftModel.from_pretrained(base, cfg["adapterDir"])
    model.eval()

    def encode(msgs):
        ids, labels = [], []
        for m in msgs:
            seg = tokenizer(f"<|{m['role']}|>" + render(m) + "</s>", add_special_tokens=False)["input_ids"]
            ids += seg
            learn = m["role"] == "assistant" and m.get("weight", 1) != 0
            labels += seg if learn else [-100] * len(seg)
        return ids[-max_len:], labels[-max_len:]

    enc = [e for e in (encode(r) for r in rows) if any(x != -100 for x in e[1])]
    if not enc:
        die("validation.jsonl: no example has an assistant turn within maxSeqLength")
    L = max(len(i) for i, _ in enc)
    ids = torch.full((len(enc), L), tokenizer.pad_token_id)
    lab = torch.full((len(enc), L), -100)
    att = torch.zeros((len(enc), L), dtype=torch.long)
    for k, (i, l) in enumerate(enc):
        ids[k, :len(i)] = torch.tensor(i)
        lab[k, :len(l)] = torch.tensor(l)
        att[k, :len(i)] = 1

    # The turns to generate: every assistant turn with tool calls, with the conversation before it.
    turns = []
    for r, msgs in enumerate(rows):
        for k, m in enumerate(msgs):
            if m["role"] == "assistant" and m.get("tool_calls"):
                expected = [((c.get("function") or {}).get("name"), parse_args((c.get("function") or {}).get("arguments")))
                            for c in m["tool_calls"]]
                prompt = "".join(f"<|{x['role']}|>" + render(x) + "</s>" for x in msgs[:k]) + "<|assistant|>"
                turns.append((r, prompt, expected))
    turns = turns[:max_turns]

    def score():
        with torch.no_grad():
            loss = model(input_ids=ids, attention_mask=att, labels=lab).loss.item()
        generated = valid = exact = 0
        for r, prompt, expected in turns:
            p = tokenizer(prompt, add_special_tokens=False)["input_ids"][-(max_len - max_new):]
            with torch.no_grad():
                out = model.generate(input_ids=torch.tensor([p]), attention_mask=torch.ones((1, len(p)), dtype=torch.long),
                                     max_new_tokens=max_new, do_sample=False, eos_token_id=tokenizer.eos_token_id,
                                     pad_token_id=tokenizer.pad_token_id)
            text = tokenizer.decode(out[0][len(p):], skip_special_tokens=True)
            got = []
            for c in calls_in(text):
                name, args = c.get("tool"), parse_args(c.get("arguments"))
                got.append((name, args))
                generated += 1
                tools = tools_of[r]
                if isinstance(name, str) and name in tools and args is not None and schema_ok(args, tools[name]):
                    valid += 1
            if got and got == expected:
                exact += 1
        return {
            "validationLoss": loss,
            "perplexity": math.exp(min(loss, 700)),
            "toolCalls": {
                "turns": len(turns),
                "generated": generated,
                "valid": valid,
                "exactMatches": exact,
                "validity": valid / generated if generated else 0.0,
                "exactMatch": exact / len(turns) if turns else 0.0,
            },
        }

    candidate = score()
    with model.disable_adapter():
        base_scores = score()
    emit(event="done", scores={"examples": len(enc), "turns": len(turns), "candidate": candidate, "base": base_scores,
                               "seconds": round(time.time() - t0, 2)})


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - one clear line for the caller, then a non-zero exit
        die(f"{type(e).__name__}: {e}", 1)
