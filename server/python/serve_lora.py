#!/usr/bin/env python3
"""A small OpenAI-compatible inference server for one promoted model version (server/src/adapters/serving/).

usage: python serve_lora.py CONFIG.json

CONFIG: {"model": id, "baseDir": path, "adapterDir": path, "requestLog": path, "maxSeqLength": int,
         "maxNewTokens": int}
Listens on 127.0.0.1, a free port, and prints {"event":"listening","port":N} on stdout once the model is loaded.
GET /v1/models lists the one model; POST /v1/chat/completions (JSON, or SSE with "stream": true) renders the
conversation as the trainer did, generates greedily and answers text, or tool calls when the text holds
`{"tool": name, "arguments": ...}` naming one of the request's tools with JSON-object arguments. After a tool
result (the last message has role `tool`) it answers text only, so an agent's turn always ends.
Every request is appended to requestLog (one JSON line: at, model, messages, tools, stream).
Exits when its parent process goes away.
"""
import json, os, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_lora import die, emit, render  # noqa: E402
from eval_lora import calls_in, parse_args  # noqa: E402

import signal  # noqa: E402

signal.signal(signal.SIGTERM, signal.SIG_DFL)  # train_lora defers SIGTERM to its step loop; here it ends the process


def main():
    if len(sys.argv) != 2:
        die("usage: serve_lora.py CONFIG.json", 1)
    cfg = json.load(open(sys.argv[1], encoding="utf-8"))
    model_id = cfg["model"]
    max_len = int(cfg.get("maxSeqLength", 256))
    max_new = int(cfg.get("maxNewTokens", 48))

    import torch
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast
    from peft import PeftModel

    torch.set_num_threads(int(os.environ.get("ORCH_TRAIN_THREADS", "1")))
    tokenizer = PreTrainedTokenizerFast.from_pretrained(cfg["baseDir"])
    model = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(cfg["baseDir"]), cfg["adapterDir"])
    model.eval()
    lock = threading.Lock()

    def log_request(body):
        with lock, open(cfg["requestLog"], "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"at": time.time(), "model": body.get("model"), "messages": len(body.get("messages") or []),
                                 "tools": len(body.get("tools") or []), "stream": bool(body.get("stream"))}) + "\n")

    def answer(body):
        msgs = [m for m in (body.get("messages") or []) if isinstance(m, dict)]
        prompt = "".join(f"<|{m.get('role')}|>" + render({**m, "content": text_of(m.get("content"))}) + "</s>" for m in msgs)
        ids = tokenizer(prompt + "<|assistant|>", add_special_tokens=False)["input_ids"][-(max_len - max_new):]
        with lock, torch.no_grad():
            out = model.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones((1, len(ids)), dtype=torch.long),
                                 max_new_tokens=max_new, do_sample=False, eos_token_id=tokenizer.eos_token_id,
                                 pad_token_id=tokenizer.pad_token_id)
        text = tokenizer.decode(out[0][len(ids):], skip_special_tokens=True)
        names = {(t.get("function") or {}).get("name") for t in (body.get("tools") or []) if isinstance(t, dict)}
        calls = []
        if not msgs or msgs[-1].get("role") != "tool":
            for c in calls_in(text):
                args = parse_args(c.get("arguments"))
                if c.get("tool") in names and args is not None:
                    calls.append({"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
                                  "function": {"name": c["tool"], "arguments": json.dumps(args)}})
        if not calls and not text.strip():
            text = "(the fine-tuned model produced no text)"
        usage = {"prompt_tokens": len(ids), "completion_tokens": len(out[0]) - len(ids), "total_tokens": len(out[0])}
        return text, calls, usage

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def send(self, code, obj):
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                return self.send(200, {"object": "list", "data": [{"id": model_id, "object": "model", "created": 0, "owned_by": "local"}]})
            if self.path == "/health":
                return self.send(200, {"ok": True})
            self.send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self):
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                return self.send(404, {"error": {"message": f"no route {self.path}"}})
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
            except ValueError as e:
                return self.send(400, {"error": {"message": f"the body is not JSON: {e}"}})
            log_request(body)
            text, calls, usage = answer(body)
            cid, created = f"chatcmpl-{uuid.uuid4().hex[:12]}", int(time.time())
            finish = "tool_calls" if calls else "stop"
            if not body.get("stream"):
                msg = {"role": "assistant", "content": None, "tool_calls": calls} if calls else {"role": "assistant", "content": text}
                return self.send(200, {"id": cid, "object": "chat.completion", "created": created, "model": model_id,
                                       "choices": [{"index": 0, "message": msg, "finish_reason": finish}], "usage": usage})
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("connection", "close")
            self.end_headers()

            def chunk(delta, fin=None, extra=None):
                c = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model_id,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": fin}] if delta is not None else []}
                if extra:
                    c.update(extra)
                self.wfile.write(f"data: {json.dumps(c)}\n\n".encode())

            chunk({"role": "assistant", "content": ""})
            if calls:
                chunk({"tool_calls": [{"index": i, **c} for i, c in enumerate(calls)]})
            else:
                chunk({"content": text})
            chunk({}, finish)
            chunk(None, extra={"usage": usage})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    parent = os.getppid()

    def watch_parent():
        while True:
            if os.getppid() != parent:  # the orchestrator died (even by SIGKILL): do not serve on as an orphan
                os._exit(0)
            time.sleep(1)

    threading.Thread(target=watch_parent, daemon=True).start()
    emit(event="listening", port=server.server_address[1], model=model_id)
    server.serve_forever()


def text_of(content):
    if isinstance(content, str) or content is None:
        return content or ""
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return json.dumps(content)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - one clear line for the caller, then a non-zero exit
        die(f"{type(e).__name__}: {e}", 1)
