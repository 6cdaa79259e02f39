"""The `small` training step of bench/training-step.ts in PyTorch, for the comparison
`npm run bench` prints when Debian's python3-torch is installed (apt-get install python3-torch).

Same work as the TypeScript step: batch 32 captions of 16 predictions, 49 regions x 512
features, embedding 256, hidden 512, attention 256 (ReLU), vector gate, vocabulary 2000,
dropout 0.5, alpha_c 1 (mean penalty), clip by value 5, Adam 4e-4; forward with teacher
forcing, loss, backward, clip, update. Prints one JSON line: {"medianMs", "minMs", "runs",
"threads", "torch"}.

    python3 bench/sat_torch.py [--threads N] [--runs 7]
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


class Decoder(nn.Module):
    def __init__(self, D=512, E=256, H=512, A=256, V=2000):
        super().__init__()
        self.embed = nn.Embedding(V, E)
        self.enc_att = nn.Linear(D, A)
        self.dec_att = nn.Linear(H, A)
        self.score = nn.Linear(A, 1)
        self.gate = nn.Linear(H, D)
        self.init_h = nn.Linear(D, H)
        self.init_c = nn.Linear(D, H)
        self.cell = nn.LSTMCell(E + D, H)
        self.out = nn.Linear(H, V)
        self.drop = nn.Dropout(0.5)

    def forward(self, features, words):
        # features [B, P, D]; words [B, T + 1] (all captions run the full T steps)
        B, T = words.shape[0], words.shape[1] - 1
        projected = self.enc_att(features)  # [B, P, A]
        mean = features.mean(1)
        h, c = self.init_h(mean), self.init_c(mean)
        vectors = self.embed(words)  # [B, T + 1, E]
        logits, alpha_sum = [], 0
        for t in range(T):
            e = self.score(torch.relu(projected + self.dec_att(h).unsqueeze(1))).squeeze(2)  # [B, P]
            alpha = torch.softmax(e, 1)
            z = (alpha.unsqueeze(2) * features).sum(1) * torch.sigmoid(self.gate(h))  # [B, D]
            h, c = self.cell(torch.cat([vectors[:, t], z], 1), (h, c))
            logits.append(self.out(self.drop(h)))
            alpha_sum = alpha_sum + alpha
        return torch.stack(logits, 1), alpha_sum  # [B, T, V], [B, P]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    B, P, D, T, V = 32, 49, 512, 16, 2000
    model = Decoder()
    optimiser = torch.optim.Adam(model.parameters(), lr=4e-4)
    features = torch.rand(B, P, D) * 2 - 1
    words = torch.randint(4, V, (B, T + 1))
    times = []
    for run in range(args.runs + 2):
        start = time.perf_counter()
        logits, alpha_sum = model(features, words)
        loss = nn.functional.cross_entropy(logits.reshape(-1, V), words[:, 1:].reshape(-1)) + ((1 - alpha_sum) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_value_(model.parameters(), 5)
        optimiser.step()
        if run >= 2:  # two warm-up steps
            times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"medianMs": statistics.median(times), "minMs": min(times), "runs": len(times), "threads": args.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
