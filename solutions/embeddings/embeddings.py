"""Word embeddings: a lookup table, its sparse gradient, similarity, and skip-gram training.

What you write, in this order (the training run at the bottom uses all of it):

1. `embedding_lookup`: the rows of a table picked by word id, what nn.Embedding computes;
2. `embedding_backward`: the gradient of a loss for that table, a sparse update of the rows
   that were looked up;
3. `cosine_similarity`: the cosine of the angle between every row of one matrix and every
   row of another;
4. `nearest_neighbours`: the k words whose vectors are most similar to a word's;
5. `skipgram_pairs`: the (centre, context) training pairs of one sentence;
6. `negative_sampling_loss` and `negative_sampling_grads`: skip-gram's loss with negative
   sampling, computed stably, and its gradients worked out by hand.

`init_tables`, `noise_distribution` and `train_skipgram` (provided, complete) train word
vectors on a small corpus with your functions.

Rules:
- Words are integer ids 0, ..., V-1. A table is a (V, D) float tensor whose row w is the
  vector of word w; index tensors are int64.
- Work the gradients out yourself: no autograd (.backward(), torch.autograd) in
  embedding_backward and negative_sampling_grads, and no ready-made embedding or cosine
  functions (nn.Embedding, F.embedding, F.cosine_similarity, F.normalize): the checks compare
  your results with those and look for them in this file.
- Never modify an input in place. Results keep the inputs' dtype and device.

Read lesson.md for the ideas, then run `mllab check embeddings`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Log = Callable[[str, float, int], None]


def embedding_lookup(weight: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """The vectors of the words in `indices`: what torch.nn.Embedding computes going forward.

    Maths:  out[p] = weight[indices[p]]     for every position p of indices

    An embedding is a linear layer fed one-hot vectors: one_hot(w) @ weight is row w of
    weight, and picking the row directly skips the multiplication by zeros.

    Shapes: weight (V, D) float; indices int64 of any shape S, e.g. (B,) or (B, K), each entry
    in 0..V-1, repeats allowed. Returns out of shape (*S, D), with weight's dtype and device.
    weight is not modified.
    """
    # TODO: pick the rows of the table that the indices name, keeping the indices' own shape
    #       in front of the vector length. No one-hot matrix is needed, and no library layer.
    # BEGIN SOLUTION
    return weight[indices]
    # END SOLUTION


def embedding_backward(
    grad_output: torch.Tensor, indices: torch.Tensor, num_embeddings: int
) -> torch.Tensor:
    """The gradient of a loss for the table, given its gradient for the looked-up vectors.

    With out = embedding_lookup(weight, indices) and grad_output = dL/dout:
            dL/dweight[w] = sum of grad_output[p] over every position p with indices[p] == w
    A row that was not looked up gets zeros; a row looked up several times gets the sum of all
    its contributions (this is what torch.nn.Embedding's backward gives, with dense gradients).

    Shapes: grad_output (*S, D); indices int64 of shape S; num_embeddings = V.
    Returns (V, D), with grad_output's dtype and device. The inputs are not modified.
    """
    # TODO: start from a table of zeros and add every position's gradient to the row its
    #       index names. A repeated index must add all of its contributions: assigning keeps
    #       only one of them. Write it yourself, without autograd.
    # BEGIN SOLUTION
    flat_grad = grad_output.reshape(-1, grad_output.shape[-1])
    grad = grad_output.new_zeros(num_embeddings, grad_output.shape[-1])
    return grad.index_add(0, indices.reshape(-1), flat_grad)
    # END SOLUTION


def cosine_similarity(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """The cosine similarity of every row of a with every row of b.

    Maths:  S[i, j] = a_i . b_j / (max(||a_i||, eps) * max(||b_j||, eps))
    where a_i is row i of a, b_j row j of b, and ||.|| the Euclidean norm. This is the
    convention of torch.nn.functional.cosine_similarity: each vector is divided by its own
    norm, floored at eps. So a zero vector has similarity 0 with every vector, itself
    included, and never NaN. Otherwise S[i, j] lies in [-1, 1], 1 for vectors pointing the
    same way whatever their lengths.

    Shapes: a (N, D), b (M, D), same dtype and device. Returns S (N, M), with a's dtype and
    device. a and b are not modified.
    """
    # TODO: compute every cosine of the result at once, following the docstring's convention:
    #       both sides are divided by their own norm, and a norm below eps counts as eps so
    #       that zero vectors give 0 instead of NaN.
    # BEGIN SOLUTION
    a_unit = a / a.norm(dim=1, keepdim=True).clamp_min(eps)
    b_unit = b / b.norm(dim=1, keepdim=True).clamp_min(eps)
    return a_unit @ b_unit.T
    # END SOLUTION


def nearest_neighbours(weight: torch.Tensor, queries: torch.Tensor, k: int) -> torch.Tensor:
    """For each query word, the k other words whose vectors are most similar to its vector.

    Similarity is your cosine_similarity between weight[q] and every row of weight. The list
    of word q runs from the most similar word to the least, and:
    - word q itself is never in its list (another word whose vector equals q's is: it is a
      different word);
    - words with equal similarity come in order of their ids, the smaller id first.

    Shapes: weight (V, D) float; queries (Q,) int64 word ids; 1 <= k <= V - 1.
    Returns (Q, k) int64 word ids, on weight's device. The inputs are not modified.
    """
    # TODO: score every word against each query with your cosine similarity, rule the query
    #       word itself out, and keep the k best ids in order. Your ordering must break ties
    #       by the smaller id, which not every sort or top-k routine promises.
    # BEGIN SOLUTION
    scores = cosine_similarity(weight[queries], weight)
    rows = torch.arange(len(queries), device=weight.device)
    scores = scores.index_put((rows, queries), scores.new_tensor(float("-inf")))
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    return order[:, :k]
    # END SOLUTION


def skipgram_pairs(tokens: torch.Tensor, window: int) -> torch.Tensor:
    """The skip-gram training pairs (centre word, context word) of one sentence.

    For every position i of the sentence, in order, and for every position j with
            1 <= |i - j| <= window   and   0 <= j < T,
    in increasing order of j, one pair (tokens[i], tokens[j]). The centre word is not its own
    context, and the window stops at the ends of the sentence (it does not wrap around).
    When T > 2 * window, there are 2 * window * T - window * (window + 1) pairs.

    Shapes: tokens (T,) int64 word ids, T >= 1; window >= 1. Returns pairs (P, 2) int64 on
    tokens' device, row = (centre id, context id); P may be 0 (shape (0, 2)). tokens is not
    modified.
    """
    # TODO: walk over the centre positions and, for each, over the neighbouring positions
    #       inside the window, in the order of the docstring. Skip the centre itself and any
    #       position before the start or past the end of the sentence.
    # BEGIN SOLUTION
    T = len(tokens)
    pairs = [
        (i, j)
        for i in range(T)
        for j in range(max(0, i - window), min(T, i + window + 1))
        if j != i
    ]
    positions = torch.tensor(pairs, dtype=torch.int64, device=tokens.device).reshape(-1, 2)
    return tokens[positions]
    # END SOLUTION


def negative_sampling_loss(
    center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor
) -> torch.Tensor:
    """Skip-gram's loss with negative sampling, averaged over a batch of pairs.

    For pair b, with v = center[b] (the centre word's vector), u_o = context[b] (the context
    word's output vector) and u_1, ..., u_K = negatives[b] (K words drawn at random):
            loss_b = -log sigmoid(u_o . v) - sum over k of log sigmoid(-u_k . v)
            loss = mean of loss_b over the batch
    The first term asks the true pair to score high, the second the random pairs to score low.

    The scores u . v can be large (hundreds) once vectors grow: the result must stay finite
    and exact for any finite scores, so compute -log sigmoid(x) in a form that never takes
    the log of a sigmoid that has rounded to 0.

    Shapes: center (B, D), context (B, D), negatives (B, K, D), same dtype and device.
    Returns a 0-d tensor with their dtype and device. The inputs are not modified.
    """
    # TODO: score the true pair and the K noise pairs of every row, turn the scores into the
    #       loss of the docstring with a stable form of -log sigmoid, and average over the
    #       batch (sum over the K negatives first).
    # BEGIN SOLUTION
    positive = (context * center).sum(dim=-1)
    noise = (negatives * center[:, None, :]).sum(dim=-1)
    per_pair = _softplus(-positive) + _softplus(noise).sum(dim=1)
    return per_pair.mean()
    # END SOLUTION


# BEGIN SOLUTION
def _softplus(x: torch.Tensor) -> torch.Tensor:
    """-log sigmoid(-x) = log(1 + exp(x)), written so that neither exp overflows."""
    return x.clamp_min(0) + torch.log1p(torch.exp(-x.abs()))


# END SOLUTION


def negative_sampling_grads(
    center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The gradients of negative_sampling_loss (the batch mean) for its three inputs.

    Returns (d_center, d_context, d_negatives) = (dL/dcenter, dL/dcontext, dL/dnegatives),
    L being negative_sampling_loss(center, context, negatives). Work them out by hand with
    the chain rule through the scores s_o = u_o . v and s_k = u_k . v (lesson.md derives
    them): autograd is not allowed here. They must stay finite for any finite scores.

    Shapes: as the inputs, d_center (B, D), d_context (B, D), d_negatives (B, K, D), with the
    inputs' dtype and device. The inputs are not modified.
    """
    # TODO: write dL/ds for the true score and for each noise score (sigmoid makes both
    #       short), then carry them to the vectors: each score is a dot product, so its
    #       gradient for one vector is the other vector. Remember the batch mean.
    # BEGIN SOLUTION
    B = center.shape[0]
    positive = (context * center).sum(dim=-1)
    noise = (negatives * center[:, None, :]).sum(dim=-1)
    d_positive = (torch.sigmoid(positive) - 1) / B  # (B,)
    d_noise = torch.sigmoid(noise) / B  # (B, K)
    d_center = d_positive[:, None] * context + (d_noise[:, :, None] * negatives).sum(dim=1)
    d_context = d_positive[:, None] * center
    d_negatives = d_noise[:, :, None] * center[:, None, :]
    return d_center, d_context, d_negatives
    # END SOLUTION


# ------------------------------------------------------------------------------------------
# Provided: skip-gram training with your functions. There is nothing to write below this line.


def init_tables(vocab_size: int, dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The starting tables, float32 on the CPU: centre vectors small and random, output zeros.

    Random centre vectors break the symmetry between words; the output vectors may start at
    zero because their first gradients come from the centre vectors (word2vec does the same).
    """
    generator = torch.Generator().manual_seed(seed)
    center = (torch.rand(vocab_size, dim, generator=generator) - 0.5) / dim
    return center, torch.zeros(vocab_size, dim)


def noise_distribution(sentences: list[torch.Tensor], vocab_size: int) -> torch.Tensor:
    """word2vec's noise distribution: each word's count to the power 3/4, normalised (V,).

    The power lifts rare words a little, so that the negatives are not almost all "the".
    """
    counts = torch.zeros(vocab_size, dtype=torch.float64)
    for tokens in sentences:
        counts += torch.bincount(tokens.cpu(), minlength=vocab_size).double()
    weights = counts**0.75
    return weights / weights.sum()


def train_skipgram(
    sentences: list[torch.Tensor],
    vocab_size: int,
    dim: int,
    window: int,
    negatives: int,
    epochs: int,
    lr: float,
    seed: int,
    device: str = "cpu",
    batch_size: int = 64,
    *,
    log: Log | None = None,
) -> torch.Tensor:
    """Train skip-gram with negative sampling by minibatch SGD; return the centre vectors.

    Every (centre, context) pair of every sentence is an example; each minibatch draws
    `negatives` noise words per pair from noise_distribution. The gradients come from your
    negative_sampling_grads and reach the two tables through your embedding_backward.
    Logs "loss" (the mean over the epoch's minibatches) once per epoch when `log` is given.
    Returns the trained centre table (vocab_size, dim), float32 on `device`.
    """
    generator = torch.Generator().manual_seed(seed)
    center, context = (table.to(device) for table in init_tables(vocab_size, dim, seed))
    pairs = torch.cat([skipgram_pairs(tokens.to(device), window) for tokens in sentences])
    noise = noise_distribution(sentences, vocab_size)
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(pairs), generator=generator).to(device)
        losses = []
        for start in range(0, len(pairs), batch_size):
            batch = pairs[order[start : start + batch_size]]
            centre_ids, context_ids = batch[:, 0], batch[:, 1]
            drawn = torch.multinomial(noise, len(batch) * negatives, True, generator=generator)
            noise_ids = drawn.reshape(len(batch), negatives).to(device)
            v = embedding_lookup(center, centre_ids)
            u_o = embedding_lookup(context, context_ids)
            u_k = embedding_lookup(context, noise_ids)
            losses.append(float(negative_sampling_loss(v, u_o, u_k)))
            d_v, d_o, d_k = negative_sampling_grads(v, u_o, u_k)
            d_context = embedding_backward(d_o, context_ids, vocab_size)
            d_context = d_context + embedding_backward(d_k, noise_ids, vocab_size)
            center = center - lr * embedding_backward(d_v, centre_ids, vocab_size)
            context = context - lr * d_context
        if log is not None:
            log("loss", sum(losses) / len(losses), epoch)
    return center
