#!/usr/bin/env node
// Golden-case generator for the gradients of the `recurrent` library.
//
// Usage:  node generate_grad_cases.js OUTDIR [--no-validate] [--only SUBSTRING]
//
// Builds TF.js 4.22.0 recurrent layers (pure-JS `cpu` backend), sets seeded
// random weights and replays `call` / `grad` / `reset_states` steps. A `grad`
// step makes x and the initial states `tf.variable`s and records, from one
// `tf.variableGrads` call, the outputs, L = sum_k sum(outputs[k] * output_weights[k])
// and dL/dx, dL/d(initial states), dL/d(every weight). Training-mode steps use
// deterministic dropout masks (each cell's `dropoutFunc`) and record the masks
// TF.js applied. Schema: schema_version 1 plus the gradient additions
// (`grad` steps, `output_weights`, `gradients`, `dropout_masks`, `kinks`,
// `grad_tolerance`). Every expected value is what TF.js itself returned.
//
// Validation (default; --no-validate skips it): every case is generated a
// second time on a fresh layer, with each cell's dropoutFunc handing the
// recorded mask[0] to every one of its 1/3/4 requests (SimpleRNN/GRU/LSTM),
// and the second file must be byte-identical to the first (outputs,
// gradients, masks: bit for bit). The re-run also checks that each grad step's
// outputs equal a plain inference call, that T = 1 still throws when
// differentiating w.r.t. x, that pinned kink units sit exactly on their kink,
// counts every element that hits an activation kink exactly, and rejects data
// with a pre-activation next to (not on) a kink whose derivative jumps.
//
// Deterministic: every random choice comes from a mulberry32 PRNG seeded from
// the case name, so running twice produces byte-identical files.
'use strict';

const fs = require('fs');

const {
  tf, mulberry32, fnv1a, dataRng, prod, F32Num, ser, buildLayer, resolve, cellList, TAG_OF,
  LAYERS, L, C, RNN, Bidi, ACTIVATIONS, stateSizes, tensorJSON, randomTensor, randomStates,
  randomMask, weightValues, stateName, statesJSON, inputsJSON, sameData, toTensor, applyLayer, buildWithZeros,
  setWeights, TOLERANCE, UNBOUNDED_GATE, bigRange, caseList, call, reset, startCase, writeCases,
  runMain,
} = require('./common');

const GRAD_TOLERANCE = {abs: 1e-4, rel: 1e-3};
const DROPOUT_SALT = 0x0d20f0a7;   // separate stream for the dropout keep flags
// TF.js 4.22.0 cannot differentiate w.r.t. the input of a length-1 sequence
const T1_MESSAGE = 'Argument tensors passed to stack must be a `Tensor[]` or `TensorLike[]`';
// generateDropoutMask `count` per cell class (only mask[0] is ever used)
const MASK_COUNT = {SimpleRNNCell: 1, GRUCell: 3, LSTMCell: 4};
const GATES = {SimpleRNNCell: ['h'], GRUCell: ['z', 'r', 'h'], LSTMCell: ['i', 'f', 'c', 'o']};

// ---------------------------------------------------------------------------
// Case specs
// ---------------------------------------------------------------------------
const {CASES, addCase, dropoutTwins} = caseList();
// steps (call and reset from common.js): opts = {mask, initialState: true, training}
function grad(B, T, F, opts = {}) {
  return Object.assign({op: 'grad', xShape: [B, T, F]}, opts);
}
const TR = {training: true};
const SEQ_STATE = {returnSequences: true, returnState: true};

// ---------------------------------------------------------------------------
// basic: random sizes per cell type
// ---------------------------------------------------------------------------
(function basic() {
  // [B, T, F, units, returnSequences, returnState]
  const table = {
    SimpleRNN: [[3, 6, 4, 5, false, true], [1, 1, 2, 3, true, true], [2, 9, 6, 1, false, false],
                [2, 4, 1, 8, true, false]],
    GRU: [[4, 3, 3, 6, true, true], [2, 10, 2, 2, false, true], [1, 7, 5, 7, true, false],
          [3, 2, 6, 4, false, false]],
    LSTM: [[2, 5, 6, 3, false, true], [4, 10, 5, 5, true, true], [1, 8, 3, 8, false, false],
           [3, 1, 4, 2, true, true]],
  };
  for (const cls of LAYERS) {
    for (const [B, T, F, u, seq, st] of table[cls]) {
      addCase('basic', TAG_OF[cls],
              `${cls} units=${u}, B=${B} T=${T} F=${F}, returnSequences=${seq} returnState=${st}, default activations` +
                  (T === 1 ? ' (T=1: no TF.js input gradient, gradients.x is null)' : ''),
              L(cls, {units: u, returnSequences: seq, returnState: st}), [grad(B, T, F)]);
    }
  }
})();

// ---------------------------------------------------------------------------
// activation: every activation as `activation` (3 cells) and as
// `recurrentActivation` (GRU, LSTM)
// ---------------------------------------------------------------------------
// (UNBOUNDED_GATE recurrent activations get smaller weights/inputs: common.js)
// the first data stream put a pre-activation within NEAR_KINK of a kink
const RESEED = {GRU_recact_selu: {reseed: 1}};
(function activation() {
  for (const cls of LAYERS) {
    for (const a of ACTIVATIONS) {
      addCase('activation', `${TAG_OF[cls]}_act_${a}`,
              `${cls} activation=${a}` +
                  (cls === 'SimpleRNN' ? '' : ' (recurrentActivation default hardSigmoid)') +
                  ', returnSequences+returnState',
              L(cls, Object.assign({units: 3, activation: a}, SEQ_STATE)), [grad(2, 4, 3)],
              {wRange: 0.7, xRange: 1.5});
    }
    if (cls === 'SimpleRNN') continue;
    for (const a of ACTIVATIONS) {
      addCase('activation', `${TAG_OF[cls]}_recact_${a}`,
              `${cls} recurrentActivation=${a}, activation=tanh, returnSequences+returnState`,
              L(cls, Object.assign({units: 3, activation: 'tanh', recurrentActivation: a}, SEQ_STATE)),
              [grad(2, 4, 3)],
              Object.assign(UNBOUNDED_GATE.has(a) ? {wRange: 0.4, xRange: 1.0} : {wRange: 0.7, xRange: 1.5},
                            RESEED[`${cls}_recact_${a}`] || {}));
    }
  }
})();

// ---------------------------------------------------------------------------
// use_bias
// ---------------------------------------------------------------------------
(function useBias() {
  for (const cls of LAYERS) {
    addCase('use_bias', `${TAG_OF[cls]}_nobias`,
            `${cls} useBias=false (no bias weight, no bias gradient), returnSequences+returnState`,
            L(cls, Object.assign({units: 4, useBias: false}, SEQ_STATE)), [grad(3, 5, 3)]);
  }
})();

// ---------------------------------------------------------------------------
// flags: returnSequences x returnState x goBackwards per cell type
// ---------------------------------------------------------------------------
(function flags() {
  LAYERS.forEach((cls, ci) => {
    for (let back = 0; back < 2; back++) {
      for (let st = 0; st < 2; st++) {
        for (let seq = 0; seq < 2; seq++) {
          addCase('flags', `${TAG_OF[cls]}_seq${seq}_state${st}_back${back}`,
                  `${cls} returnSequences=${!!seq} returnState=${!!st} goBackwards=${!!back}`,
                  L(cls, {units: 2 + ci, returnSequences: !!seq, returnState: !!st,
                          goBackwards: !!back}),
                  [grad(2, 5, 3)]);
        }
      }
    }
  });
})();

// ---------------------------------------------------------------------------
// mask
// ---------------------------------------------------------------------------
(function mask() {
  const rows4 = [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0], [1, 0, 1, 0, 1, 1], [0, 0, 0, 0, 0, 0]];
  const rows3 = [[0, 0, 0, 0, 0], [0, 1, 1, 1, 1], [1, 0, 0, 0, 1]];
  for (const cls of LAYERS) {
    const t = TAG_OF[cls];
    addCase('mask', `${t}_seq_state`,
            `${cls} mask rows [leading zeros, trailing zeros, interior zeros, all zero]: masked steps pass the state gradient through unchanged and give the step's inputs nothing, returnSequences+returnState`,
            L(cls, Object.assign({units: 3}, SEQ_STATE)), [grad(4, 6, 3, {mask: rows4})]);
    addCase('mask', `${t}_seq_state_back`,
            `${cls} goBackwards with mask rows [leading, trailing, interior, all zero], returnSequences+returnState`,
            L(cls, Object.assign({units: 3}, SEQ_STATE, {goBackwards: true})),
            [grad(4, 6, 3, {mask: rows4})]);
    addCase('mask', `${t}_initstate`,
            `${cls} mask + initialState: rows [all zero (every output is the initial state, whose gradient is the sum of the output weights it reaches), leading, interior]`,
            L(cls, Object.assign({units: 3}, SEQ_STATE)),
            [grad(3, 5, 2, {mask: rows3, initialState: true})]);
  }
  addCase('mask', 'lstm_nonbinary',
          'LSTM with non-binary mask values (TF.js casts the mask to bool: any non-zero counts as 1; no gradient w.r.t. the mask)',
          L('LSTM', Object.assign({units: 3}, SEQ_STATE)),
          [grad(2, 6, 3, {mask: [[0.5, 0, 2, 0.001, 0, -0.25], [-1, 1e-30, 0, 7, 0.5, 0]]})]);
  addCase('mask', 'gru_random_last',
          'GRU random mask, last output only', L('GRU', {units: 4}),
          [grad(4, 7, 3, {mask: 'random'})]);
})();

// ---------------------------------------------------------------------------
// initial_state
// ---------------------------------------------------------------------------
(function initialState() {
  for (const cls of LAYERS) {
    addCase('initial_state', `${TAG_OF[cls]}_fwd`,
            `${cls} with initialState (gradients w.r.t. every initial state), returnSequences+returnState`,
            L(cls, Object.assign({units: 3}, SEQ_STATE)), [grad(2, 5, 3, {initialState: true})]);
    addCase('initial_state', `${TAG_OF[cls]}_back`,
            `${cls} with initialState and goBackwards, last output only`,
            L(cls, {units: 2, goBackwards: true}), [grad(2, 4, 5, {initialState: true})]);
  }
})();

// ---------------------------------------------------------------------------
// stacked
// ---------------------------------------------------------------------------
const stackSpec = cells => ({class_name: 'StackedRNNCells', config: {name: 'stack', cells}});
(function stacked() {
  addCase('stacked', 'rnn_lstm_gru_state',
          'tf.layers.rnn({cell:[LSTMCell(3), GRUCell(2)]}) returnState: states (and their output weights) in reverse cell order [cell1.h, cell0.h, cell0.c]',
          RNN({returnState: true, cell: [C('LSTMCell', 'cell0', {units: 3}),
                                         C('GRUCell', 'cell1', {units: 2})]}),
          [grad(2, 5, 4)]);
  addCase('stacked', 'rnn_gru_simplernn_seq', 'rnn([GRUCell(4), SimpleRNNCell(3)]) returnSequences',
          RNN({returnSequences: true, cell: [C('GRUCell', 'cell0', {units: 4}),
                                             C('SimpleRNNCell', 'cell1', {units: 3})]}),
          [grad(3, 6, 2)]);
  addCase('stacked', 'rnn_lstm_lstm_initstate',
          'rnn([LSTMCell(2), LSTMCell(3)]) with initialState [cell1.h, cell1.c, cell0.h, cell0.c] and their gradients',
          RNN(Object.assign({}, SEQ_STATE, {cell: [C('LSTMCell', 'cell0', {units: 2}),
                                                   C('LSTMCell', 'cell1', {units: 3})]})),
          [grad(2, 4, 3, {initialState: true})]);
  addCase('stacked', 'rnn_lstm_gru_mask_seq_state',
          'rnn([LSTMCell(3), GRUCell(2)]) with a mask (masked steps keep all three states), returnSequences+returnState',
          RNN(Object.assign({}, SEQ_STATE, {cell: [C('LSTMCell', 'cell0', {units: 3}),
                                                   C('GRUCell', 'cell1', {units: 2})]})),
          [grad(3, 6, 3, {mask: [[1, 1, 0, 1, 0, 0], [0, 0, 1, 1, 1, 1], [1, 0, 0, 0, 0, 1]]})]);
  addCase('stacked', 'stackedcells_lstm_gru_lstm_back_state',
          'stackedRNNCells([LSTMCell(3), GRUCell(2), LSTMCell(4)]) goBackwards + returnState',
          RNN({returnState: true, goBackwards: true,
               cell: stackSpec([C('LSTMCell', 'cell0', {units: 3}), C('GRUCell', 'cell1', {units: 2}),
                                C('LSTMCell', 'cell2', {units: 4})])}),
          [grad(3, 5, 3)]);
  addCase('stacked', 'rnn_three_cells_back_seq_initstate_mask',
          'rnn([GRUCell(2), LSTMCell(3), SimpleRNNCell(2)]) goBackwards+returnSequences+returnState with initialState and mask',
          RNN(Object.assign({}, SEQ_STATE, {goBackwards: true,
            cell: [C('GRUCell', 'cell0', {units: 2}), C('LSTMCell', 'cell1', {units: 3}),
                   C('SimpleRNNCell', 'cell2', {units: 2})]})),
          [grad(2, 5, 3, {mask: [[1, 1, 1, 0, 0], [0, 1, 0, 1, 1]], initialState: true})]);
  addCase('stacked', 'stackedcells_mixed_activations_nobias',
          'stackedRNNCells([LSTMCell(3, activation=softsign, recurrentActivation=sigmoid, useBias=false), GRUCell(2, activation=relu, recurrentActivation=tanh, useBias=false), SimpleRNNCell(2, activation=elu, useBias=false)]) returnSequences',
          RNN({returnSequences: true,
               cell: stackSpec([
                 C('LSTMCell', 'cell0', {units: 3, activation: 'softsign', recurrentActivation: 'sigmoid',
                                         useBias: false}),
                 C('GRUCell', 'cell1', {units: 2, activation: 'relu', recurrentActivation: 'tanh',
                                        useBias: false}),
                 C('SimpleRNNCell', 'cell2', {units: 2, activation: 'elu', useBias: false})])}),
          [grad(2, 5, 3)]);
  addCase('stacked', 'rnn_single_lstmcell_state',
          'generic tf.layers.rnn with a single LSTMCell (not an array), returnState',
          RNN({returnState: true, cell: C('LSTMCell', 'cell0', {units: 3})}), [grad(2, 5, 3)]);
  addCase('stacked', 'rnn_single_grucell_back_initstate',
          'generic tf.layers.rnn with a single GRUCell, goBackwards+returnSequences with initialState',
          RNN({returnSequences: true, goBackwards: true, cell: C('GRUCell', 'cell0', {units: 3})}),
          [grad(3, 4, 2, {initialState: true})]);
})();

// ---------------------------------------------------------------------------
// bidirectional
// ---------------------------------------------------------------------------
(function bidirectional() {
  addCase('bidirectional', 'lstm_concat_seq', 'Bidirectional(LSTM) concat, returnSequences',
          Bidi({mergeMode: 'concat'}, L('LSTM', {units: 3, returnSequences: true})), [grad(2, 5, 3)]);
  addCase('bidirectional', 'gru_sum_seq', 'Bidirectional(GRU) sum, returnSequences',
          Bidi({mergeMode: 'sum'}, L('GRU', {units: 3, returnSequences: true})), [grad(2, 5, 3)]);
  addCase('bidirectional', 'simplernn_ave_last', 'Bidirectional(SimpleRNN) ave, last output',
          Bidi({mergeMode: 'ave'}, L('SimpleRNN', {units: 3})), [grad(3, 4, 2)]);
  addCase('bidirectional', 'lstm_mul_last', 'Bidirectional(LSTM) mul, last output',
          Bidi({mergeMode: 'mul'}, L('LSTM', {units: 3})), [grad(3, 4, 2)]);
  addCase('bidirectional', 'gru_null_seq',
          'Bidirectional(GRU) mergeMode=null, returnSequences: two outputs [output_forward, output_backward], one output weight each',
          Bidi({mergeMode: null}, L('GRU', {units: 2, returnSequences: true})), [grad(2, 4, 3)]);
  addCase('bidirectional', 'simplernn_default_seq',
          'Bidirectional(SimpleRNN) mergeMode not passed (default concat), returnSequences',
          Bidi({}, L('SimpleRNN', {units: 3, returnSequences: true})), [grad(2, 5, 3)]);
  addCase('bidirectional', 'lstm_concat_seq_state',
          'Bidirectional(LSTM) concat returnSequences+returnState: [output, forward.h, forward.c, backward.h, backward.c]',
          Bidi({mergeMode: 'concat'}, L('LSTM', Object.assign({units: 2}, SEQ_STATE))),
          [grad(2, 4, 3)]);
  addCase('bidirectional', 'gru_null_state_last',
          'Bidirectional(GRU) mergeMode=null returnState, last output: [output_forward, output_backward, forward.h, backward.h]',
          Bidi({mergeMode: null}, L('GRU', {units: 3, returnState: true})), [grad(2, 5, 2)]);
  addCase('bidirectional', 'lstm_sum_mask_seq',
          'Bidirectional(LSTM) sum with mask, returnSequences (masked steps repeat the previous output in each direction)',
          Bidi({mergeMode: 'sum'}, L('LSTM', {units: 3, returnSequences: true})),
          [grad(3, 6, 3, {mask: [[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1], [1, 0, 1, 0, 1, 0]]})]);
  addCase('bidirectional', 'gru_concat_initstate_state',
          'Bidirectional(GRU) concat with initialState [forward.h, backward.h] and their gradients, returnSequences+returnState',
          Bidi({mergeMode: 'concat'}, L('GRU', Object.assign({units: 3}, SEQ_STATE))),
          [grad(2, 4, 3, {initialState: true})]);
  addCase('bidirectional', 'simplernn_inner_back_mask',
          'Bidirectional(SimpleRNN goBackwards=true) ave returnSequences with mask: inner goBackwards swaps the two directions',
          Bidi({mergeMode: 'ave'}, L('SimpleRNN', {units: 3, goBackwards: true, returnSequences: true})),
          [grad(2, 5, 3, {mask: [[0, 1, 1, 1, 1], [1, 0, 0, 0, 1]]})]);
  addCase('bidirectional', 'lstm_inner_back_concat_state',
          'Bidirectional(LSTM goBackwards=true) concat, last output + returnState',
          Bidi({mergeMode: 'concat'}, L('LSTM', {units: 2, goBackwards: true, returnState: true})),
          [grad(2, 4, 2)]);
  addCase('bidirectional', 'gru_mask_initstate_seq_state',
          'Bidirectional(GRU) mul with mask and initialState, returnSequences+returnState',
          Bidi({mergeMode: 'mul'}, L('GRU', Object.assign({units: 2}, SEQ_STATE))),
          [grad(2, 5, 2, {mask: [[1, 0, 1, 1, 0], [0, 0, 1, 1, 1]], initialState: true})]);
  addCase('bidirectional', 'simplernn_t1_b1',
          'Bidirectional(SimpleRNN) concat with T=1, B=1, returnSequences+returnState (T=1: gradients.x is null)',
          Bidi({mergeMode: 'concat'}, L('SimpleRNN', Object.assign({units: 2}, SEQ_STATE))),
          [grad(1, 1, 3)]);
})();

// ---------------------------------------------------------------------------
// stateful
// ---------------------------------------------------------------------------
(function stateful() {
  addCase('stateful', 'lstm_call_grad_reset_grad',
          'stateful LSTM: call, grad (starts from the stored states; no gradient into them), resetStates(), grad (from zeros)',
          L('LSTM', Object.assign({units: 3, stateful: true}, SEQ_STATE)),
          [call(2, 4, 3), grad(2, 4, 3), reset(), grad(2, 4, 3)]);
  addCase('stateful', 'gru_mask',
          'stateful GRU with masks: call, grad (an all-zero row: its outputs are the stored state, a constant), grad, resetStates(), grad',
          L('GRU', {units: 3, stateful: true, returnSequences: true}),
          [call(2, 4, 3, {mask: [[1, 1, 0, 1], [1, 0, 1, 1]]}),
           grad(2, 4, 3, {mask: [[0, 0, 0, 0], [0, 1, 1, 0]]}),
           grad(2, 4, 3, {mask: [[1, 1, 1, 0], [0, 0, 1, 1]]}), reset(),
           grad(2, 4, 3, {mask: [[0, 1, 1, 1], [1, 1, 0, 1]]})]);
  addCase('stateful', 'simplernn_initstate_grad',
          'stateful SimpleRNN: call, grad with initialState (overrides the stored state; gradients for it), grad (continues from the previous grad\'s final state), resetStates(), grad',
          L('SimpleRNN', {units: 3, stateful: true, returnState: true}),
          [call(2, 3, 2), grad(2, 3, 2, {initialState: true}), grad(2, 3, 2), reset(),
           grad(2, 3, 2)]);
  addCase('stateful', 'stacked_lstm_gru_reset_values',
          'stateful rnn([LSTMCell(3), GRUCell(2)]) returnState: call, grad, resetStates(values) in reverse cell order [cell1.h, cell0.h, cell0.c], grad, resetStates(), grad',
          RNN({stateful: true, returnState: true,
               cell: [C('LSTMCell', 'cell0', {units: 3}), C('GRUCell', 'cell1', {units: 2})]}),
          [call(2, 3, 3), grad(2, 3, 3), reset('random'), grad(2, 3, 3), reset(), grad(2, 3, 3)]);
  addCase('stateful', 'bidi_gru_concat',
          'stateful Bidirectional(GRU) concat returnSequences: call, grad (both directions start from their stored states), resetStates(), grad',
          Bidi({mergeMode: 'concat'}, L('GRU', {units: 2, stateful: true, returnSequences: true})),
          [call(2, 3, 3), grad(2, 3, 3), reset(), grad(2, 3, 3)]);
})();

// ---------------------------------------------------------------------------
// kink: gate units pinned exactly onto an activation kink
//   kinks: [cell, gate, unit, pre_activation]
// ---------------------------------------------------------------------------
(function kink() {
  const K = (tag, desc, layer, steps, kinks, opts = {}) =>
      addCase('kink', tag, desc, layer, steps, Object.assign({kinks}, opts));
  K('simplernn_relu_at0',
    'SimpleRNN(relu): unit 0 pinned at pre-activation 0 (relu\'(0) = 0: the unit passes no gradient)',
    L('SimpleRNN', Object.assign({units: 3, activation: 'relu'}, SEQ_STATE)), [grad(2, 4, 3)],
    [[0, 'h', 0, 0]]);
  K('simplernn_relu6_at6_at0',
    'SimpleRNN(relu6): unit 0 pinned at 6, unit 1 at 0 (relu6 = minimum(6, relu(x)): derivative 0 at both)',
    L('SimpleRNN', Object.assign({units: 4, activation: 'relu6'}, SEQ_STATE)), [grad(2, 4, 3)],
    [[0, 'h', 0, 6], [0, 'h', 1, 0]]);
  K('simplernn_hardsigmoid_at_pm2p5',
    'SimpleRNN(activation=hardSigmoid): unit 0 pinned at +2.5 (y = 1), unit 2 at -2.5 (y = 0): the clip passes the gradient at its bounds, derivative 0.2',
    L('SimpleRNN', Object.assign({units: 3, activation: 'hardSigmoid'}, SEQ_STATE)), [grad(2, 4, 3)],
    [[0, 'h', 0, 2.5], [0, 'h', 2, -2.5]]);
  K('gru_hardsigmoid_gates',
    'GRU (default hardSigmoid gates): z0=+2.5 (z=1, h0 = h0_prev), r1=-2.5 (r=0), z2=-2.5 (z=0), derivative 0.2 at all of them',
    L('GRU', Object.assign({units: 3}, SEQ_STATE)), [grad(2, 4, 3)],
    [[0, 'z', 0, 2.5], [0, 'r', 1, -2.5], [0, 'z', 2, -2.5]]);
  K('lstm_hardsigmoid_gates',
    'LSTM (default hardSigmoid gates): i0=-2.5 (i=0) and f0=+2.5 (f=1) keep c0 at its start value, o1=+2.5 (o=1), f2=-2.5 (f=0), i3=+2.5 (i=1)',
    L('LSTM', Object.assign({units: 4}, SEQ_STATE)), [grad(2, 4, 3)],
    [[0, 'i', 0, -2.5], [0, 'f', 0, 2.5], [0, 'o', 1, 2.5], [0, 'f', 2, -2.5], [0, 'i', 3, 2.5]]);
  K('gru_relu_candidate_at0',
    'GRU(activation=relu): candidate unit 1 pinned at 0 (hh1 = 0 with relu\'(0) = 0)',
    L('GRU', Object.assign({units: 3, activation: 'relu'}, SEQ_STATE)), [grad(2, 4, 3)],
    [[0, 'h', 1, 0]]);
  K('lstm_selu_candidate_cell_at0',
    'LSTM(activation=selu): candidate unit 0 pinned at 0, so c0 = f*0 + i*selu(0) stays exactly 0 and h0 = o*selu(c0) hits the kink a second time (selu\'(0) = scale*alpha on both)',
    L('LSTM', Object.assign({units: 3, activation: 'selu'}, SEQ_STATE)), [grad(2, 4, 3)],
    [[0, 'c', 0, 0]]);
  K('lstm_elu_candidate_cell_at0',
    'LSTM(activation=elu): candidate unit 1 pinned at 0, so c1 stays exactly 0 and h1 = o*elu(c1) hits the kink too (elu\'(0) = 1)',
    L('LSTM', Object.assign({units: 3, activation: 'elu'}, SEQ_STATE)), [grad(2, 4, 3)],
    [[0, 'c', 1, 0]]);
  K('gru_softsign_candidate_at0',
    'GRU(activation=softsign): candidate unit 2 pinned at 0 (softsign\'(0) = 1 through |x|\'(0) = -1 times 0)',
    L('GRU', Object.assign({units: 3, activation: 'softsign'}, SEQ_STATE)), [grad(2, 4, 3)],
    [[0, 'h', 2, 0]]);
  K('lstm_recact_relu6_gates',
    'LSTM(recurrentActivation=relu6): f0 pinned at 0 (f=0), i1 at 6 (i=6), o2 at 0 (o=0): derivative 0 at all three',
    L('LSTM', Object.assign({units: 3, recurrentActivation: 'relu6'}, SEQ_STATE)), [grad(2, 4, 3)],
    [[0, 'f', 0, 0], [0, 'i', 1, 6], [0, 'o', 2, 0]], {wRange: 0.4});
  K('gru_recact_selu_gates',
    'GRU(recurrentActivation=selu): z0 pinned at 0 (z=0), r2 at 0 (r=0): selu\'(0) = scale*alpha',
    L('GRU', Object.assign({units: 3, recurrentActivation: 'selu'}, SEQ_STATE)), [grad(2, 4, 3)],
    [[0, 'z', 0, 0], [0, 'r', 2, 0]], {wRange: 0.4});
  K('bidi_lstm_relu_mask',
    'Bidirectional(LSTM activation=relu) concat returnSequences with a mask: forward cell candidate unit 0 at 0 (relu, which also keeps c0 = 0 exactly: relu(c0) on the kink too), backward cell f-gate unit 1 at -2.5 (hardSigmoid, f = 0) and candidate unit 2 at 0',
    Bidi({mergeMode: 'concat'}, L('LSTM', {units: 3, activation: 'relu', returnSequences: true})),
    [grad(3, 5, 2, {mask: [[1, 1, 0, 1, 1], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0]]})],
    [[0, 'c', 0, 0], [1, 'f', 1, -2.5], [1, 'c', 2, 0]]);
  K('lstm_relu_natural_zero_input',
    'LSTM(activation=relu, useBias=false), nothing pinned: x is all zero at t=0 for every row and at every step of row 0, so every pre-activation there is exactly 0 (relu(0) candidate, c = 0, relu(c = 0)); elsewhere a negative candidate at t=0 makes c = 0 exactly as well',
    L('LSTM', Object.assign({units: 3, activation: 'relu', useBias: false}, SEQ_STATE)),
    [grad(3, 4, 3)], [], {zeroX: {steps: [0], rows: [0]}});
})();

// ---------------------------------------------------------------------------
// dropout: deterministic masks in training mode
// ---------------------------------------------------------------------------
(function dropout() {
  const kinds = [['dropout', {dropout: 0.3}], ['recurrent', {recurrentDropout: 0.4}],
                 ['both', {dropout: 0.25, recurrentDropout: 0.5}]];
  for (const cls of LAYERS) {
    for (const [tag, rates] of kinds) {
      addCase('dropout', `${TAG_OF[cls]}_${tag}`,
              `${cls} ${JSON.stringify(rates)} grad with training=true (masks recorded), returnSequences+returnState` +
                  (cls === 'GRU' && rates.recurrentDropout ?
                       '; GRU applies the recurrent mask to h_prev everywhere, incl. z*h_prev' : ''),
              L(cls, Object.assign({units: 4}, SEQ_STATE, rates)), [grad(3, 5, 4, TR)]);
    }
  }
  addCase('dropout', 'lstm_mask_back',
          'LSTM dropout .3 recurrentDropout .3, training, with a mask and goBackwards, returnSequences+returnState',
          L('LSTM', Object.assign({units: 3}, SEQ_STATE,
                                  {goBackwards: true, dropout: 0.3, recurrentDropout: 0.3})),
          [grad(3, 5, 3, {training: true, mask: [[1, 1, 0, 1, 1], [0, 0, 1, 1, 1], [1, 0, 1, 1, 0]]})]);
  addCase('dropout', 'gru_initstate',
          'GRU dropout .2 recurrentDropout .4, training, with initialState (the recurrent mask also multiplies the initial state)',
          L('GRU', Object.assign({units: 3}, SEQ_STATE, {dropout: 0.2, recurrentDropout: 0.4})),
          [grad(2, 4, 3, {training: true, initialState: true})]);
  addCase('dropout', 'simplernn_two_grads_new_masks',
          'SimpleRNN dropout .4 recurrentDropout .3: two grad steps in training mode on the same layer, each with new masks',
          L('SimpleRNN', Object.assign({units: 3}, SEQ_STATE, {dropout: 0.4, recurrentDropout: 0.3})),
          [grad(3, 4, 3, TR), grad(3, 4, 3, TR)], {masksDiffer: [0, 1]});
  addCase('dropout', 'stacked_lstm_gru_simple',
          'rnn([LSTMCell(dropout .3, recurrentDropout .2), GRUCell(recurrentDropout .4), SimpleRNNCell(dropout .5)]) grad training',
          RNN(Object.assign({}, SEQ_STATE, {
            cell: [C('LSTMCell', 'cell0', {units: 3, dropout: 0.3, recurrentDropout: 0.2}),
                   C('GRUCell', 'cell1', {units: 3, recurrentDropout: 0.4}),
                   C('SimpleRNNCell', 'cell2', {units: 2, dropout: 0.5})]})),
          [grad(3, 4, 3, TR)]);
  addCase('dropout', 'stacked_two_grads_masks_reused',
          'rnn([GRUCell(dropout .3, recurrentDropout .3), LSTMCell(dropout .4)]) two grad steps in training mode: the generic RNN layer never drops its cells\' masks, so the second step reuses the first step\'s masks (recorded twice)',
          RNN({returnSequences: true,
               cell: [C('GRUCell', 'cell0', {units: 3, dropout: 0.3, recurrentDropout: 0.3}),
                      C('LSTMCell', 'cell1', {units: 2, dropout: 0.4})]}),
          [grad(2, 4, 3, TR), grad(2, 4, 3, TR)], {masksSame: [0, 1]});
  addCase('dropout', 'bidi_lstm_concat_both',
          'Bidirectional(LSTM dropout .3 recurrentDropout .3) concat returnSequences, training: forward cell masks = cell 0, backward = cell 1',
          Bidi({mergeMode: 'concat'},
               L('LSTM', {units: 3, dropout: 0.3, recurrentDropout: 0.3, returnSequences: true})),
          [grad(2, 4, 3, TR)]);
  addCase('dropout', 'bidi_gru_null_state_mask',
          'Bidirectional(GRU dropout .25 recurrentDropout .4) mergeMode=null returnState with a mask, training',
          Bidi({mergeMode: null},
               L('GRU', {units: 3, dropout: 0.25, recurrentDropout: 0.4, returnState: true})),
          [grad(3, 5, 2, {training: true, mask: [[1, 1, 1, 0, 0], [0, 1, 1, 1, 1], [1, 0, 1, 0, 1]]})]);
  addCase('dropout', 'stateful_lstm',
          'stateful LSTM dropout .3 recurrentDropout .25: grad, grad (from the stored states, new masks), resetStates(), grad, all in training mode',
          L('LSTM', Object.assign({units: 3, stateful: true}, SEQ_STATE,
                                  {dropout: 0.3, recurrentDropout: 0.25})),
          [grad(2, 3, 3, TR), grad(2, 3, 3, TR), reset(), grad(2, 3, 3, TR)]);
  addCase('dropout', 'simplernn_call_training',
          'SimpleRNN dropout+recurrentDropout: two forward call steps with training=true (forward parity in training mode; new masks each call)',
          L('SimpleRNN', Object.assign({units: 3, dropout: 0.35, recurrentDropout: 0.35}, SEQ_STATE)),
          [call(3, 4, 3, TR), call(3, 4, 3, TR)], {masksDiffer: [0, 1]});
  addCase('dropout', 'gru_call_then_grad_training',
          'GRU dropout .3 recurrentDropout .3: a call step then a grad step, both training=true (each with its own masks)',
          L('GRU', Object.assign({units: 3}, SEQ_STATE, {dropout: 0.3, recurrentDropout: 0.3})),
          [call(2, 5, 3, TR), grad(2, 5, 3, TR)], {masksDiffer: [0, 1]});
  addCase('dropout', 'stacked_call_then_grad_training',
          'rnn([LSTMCell(dropout .3, recurrentDropout .3), SimpleRNNCell(recurrentDropout .5)]) call then grad, both training=true: the grad step reuses the call step\'s masks (generic RNN)',
          RNN({returnState: true,
               cell: [C('LSTMCell', 'cell0', {units: 3, dropout: 0.3, recurrentDropout: 0.3}),
                      C('SimpleRNNCell', 'cell1', {units: 2, recurrentDropout: 0.5})]}),
          [call(2, 4, 3, TR), grad(2, 4, 3, TR)], {masksSame: [0, 1]});
  addCase('dropout', 'rnn_single_lstmcell_training',
          'generic tf.layers.rnn with a single LSTMCell(dropout .3, recurrentDropout .2), grad training, returnSequences+returnState',
          RNN(Object.assign({}, SEQ_STATE, {
            cell: C('LSTMCell', 'cell0', {units: 3, dropout: 0.3, recurrentDropout: 0.2})})),
          [grad(2, 4, 3, TR)]);
  const pair = dropoutTwins('dropout', 'identical outputs and gradients');
  pair('lstm_inference',
       'LSTM dropout .3 recurrentDropout .4, grad steps with training omitted and training=false: inference never applies dropout',
       L('LSTM', Object.assign({units: 3}, SEQ_STATE, {dropout: 0.3, recurrentDropout: 0.4})),
       L('LSTM', Object.assign({units: 3}, SEQ_STATE)),
       [grad(2, 4, 3), grad(2, 4, 3, {training: false})]);
  pair('lstm_rate1_training',
       'LSTM dropout=1 recurrentDropout=1, grad with training=true: the dropout path needs 0 < rate < 1, so no dropout (dropout_masks [])',
       L('LSTM', Object.assign({units: 3}, SEQ_STATE, {dropout: 1, recurrentDropout: 1})),
       L('LSTM', Object.assign({units: 3}, SEQ_STATE)), [grad(2, 4, 3, TR)],
       '(training=true as well)');
})();

// ---------------------------------------------------------------------------
// edge
// ---------------------------------------------------------------------------
(function edge() {
  for (const cls of LAYERS) {
    addCase('edge', `${TAG_OF[cls]}_b1_t1_f1_u1`,
            `${cls} B=1 T=1 F=1 units=1, returnState (T=1: gradients.x is null)`,
            L(cls, {units: 1, returnState: true}), [grad(1, 1, 1)]);
  }
  addCase('edge', 'lstm_softmax_gates_u1',
          'LSTM units=1 recurrentActivation=softmax: every gate is softmax over one unit = the constant 1, so the i/f/o kernel, recurrent-kernel and bias columns get exactly 0',
          L('LSTM', Object.assign({units: 1, recurrentActivation: 'softmax'}, SEQ_STATE)),
          [grad(2, 4, 2)]);
  addCase('edge', 'gru_softmax_candidate_u1',
          'GRU units=1 activation=softmax: the candidate is the constant 1, so its kernel/recurrent/bias columns get exactly 0',
          L('GRU', Object.assign({units: 1, activation: 'softmax'}, SEQ_STATE)), [grad(2, 4, 2)]);
  addCase('edge', 'lstm_repeated_grads_varying_b_t',
          'non-stateful LSTM: three grad steps with different B/T (2x4, 3x6, 1x2) on the same layer; nothing carried over',
          L('LSTM', {units: 3, returnState: true}), [grad(2, 4, 3), grad(3, 6, 3), grad(1, 2, 3)]);
  addCase('edge', 'gru_t1_masked_row_initstate',
          'GRU T=1 with mask [[1],[0],[1]] and initialState: the masked row returns its initial state (its gradient = the sum of the output weights of that row); gradients.x is null (T=1)',
          L('GRU', Object.assign({units: 3}, SEQ_STATE)),
          [grad(3, 1, 2, {mask: [[1], [0], [1]], initialState: true})]);
})();

// ---------------------------------------------------------------------------
// big
// ---------------------------------------------------------------------------
(function big() {
  const opts = {wRange: bigRange(8, 24), recordRange: true};
  addCase('big', 'lstm_t40_u24', 'LSTM B=2 T=40 F=8 units=24, last output + state',
          L('LSTM', {units: 24, returnState: true}), [grad(2, 40, 8)], opts);
  addCase('big', 'gru_t40_u24', 'GRU B=2 T=40 F=8 units=24, last output + state',
          L('GRU', {units: 24, returnState: true}), [grad(2, 40, 8)], opts);
  addCase('big', 'simplernn_t40_u24', 'SimpleRNN B=2 T=40 F=8 units=24, last output + state',
          L('SimpleRNN', {units: 24, returnState: true}), [grad(2, 40, 8)], opts);
  addCase('big', 'stacked_lstm24_gru12_t40', 'rnn([LSTMCell(24), GRUCell(12)]) B=2 T=40 F=8, last output + states',
          RNN({returnState: true, cell: [C('LSTMCell', 'cell0', {units: 24}),
                                         C('GRUCell', 'cell1', {units: 12})]}),
          [grad(2, 40, 8)], opts);
  const lens = [40, 25, 13];
  const bigMask = lens.map((n, b) => Array.from({length: 40}, (_, t) =>
      (b === 2 ? (t >= 6 && t < 6 + n ? 1 : 0) : (t < n ? 1 : 0))));
  addCase('big', 'bidi_lstm16_t40_mask',
          'Bidirectional(LSTM units=16) concat, B=3 T=40 F=8, mask with per-row lengths 40/25/13 (last row padded on both sides), last output',
          Bidi({mergeMode: 'concat'}, L('LSTM', {units: 16})), [grad(3, 40, 8, {mask: bigMask})],
          {wRange: bigRange(8, 16), recordRange: true});
})();

// ---------------------------------------------------------------------------
// Running a case
// ---------------------------------------------------------------------------
const TWIN_DATA = new Map();  // main case name -> {values, names, inputs, steps}

function rnnLayers(layer) {
  return layer.getClassName() === 'Bidirectional' ? [layer.forwardLayer, layer.backwardLayer] :
                                                    [layer];
}
// cells in `dropout_masks` / `kinks` numbering: stack order; Bidirectional
// forward cells then backward cells
function allCells(layer) {
  return [].concat(...rnnLayers(layer).map(cellList));
}
const active = r => 0 < r && r < 1;
const maskOf = m => (m == null ? null : Array.isArray(m) ? m[0] : m);

// output shapes in TF.js return order (for the output weights, drawn up front)
function outputShapes(resolved, xShape) {
  const [B, T] = xShape;
  const seq = resolved.return_sequences;
  const shape = u => (seq ? [B, T, u] : [B, u]);
  let outs;
  if (resolved.class_name === 'Bidirectional') {
    const fw = resolved.forward;
    const u = fw.cells[fw.cells.length - 1].units;
    const m = resolved.merge_mode;
    outs = m == null ? [shape(u), shape(u)] : [shape(m === 'concat' ? 2 * u : u)];
  } else {
    outs = [shape(resolved.cells[resolved.cells.length - 1].units)];
  }
  if (resolved.return_state) outs = outs.concat(stateSizes(resolved).map(n => [B, n]));
  return outs;
}

// Exact-kink bookkeeping (validation run): activation class -> predicate on the
// pre-activation x, in TF.js's own float32 arithmetic
const F02 = Math.fround(0.2);
const KINK_TEST = {
  relu: x => x === 0,
  relu6: x => x === 0 || x === 6,
  hardSigmoid: x => {
    const y = Math.fround(Math.fround(F02 * x) + 0.5);
    return y === 0 || y === 1;
  },
  selu: x => x === 0,
  elu: x => x === 0,
  softsign: x => x === 0,
};

// Activations whose derivative jumps at a kink: a pre-activation that is not
// exactly on the kink but within NEAR_KINK of it could land on the other side
// in another float32 implementation (other summation order) and flip the
// derivative, so the generator refuses such data (elu with alpha 1 and softsign
// have continuous derivatives and are exempt).
const NEAR_KINK = 1e-5;
const JUMP_KINKS = {relu: [0], relu6: [0, 6], hardSigmoid: [-2.5, 2.5], selu: [0]};

// order in which a cell applies its activations within one step
// (tfjs-layers recurrent.ts): gate index per call, 'state' = LSTM act(c)
const ACT_ORDER = {
  SimpleRNNCell: {activation: [0], recurrent: []},
  GRUCell: {activation: [2], recurrent: [0, 1]},
  LSTMCell: {activation: [2, 'state'], recurrent: [0, 1, 3]},
};

function installKinkProbes(layer, pinned, stats) {
  allCells(layer).forEach((cell, k) => {
    const cls = cell.getClassName();
    for (const which of ['activation', 'recurrent']) {
      const act = which === 'activation' ? cell.activation : cell.recurrentActivation;
      if (act == null) continue;
      const name = act.getClassName();
      const test = KINK_TEST[name];
      const order = ACT_ORDER[cls][which];
      const pins = pinned.filter(p => p.cell === k);
      if (!test && pins.length === 0) continue;
      const orig = act.apply.bind(act);
      let n = 0;
      act.apply = (x, ...rest) => {
        if (stats.paused) return orig(x, ...rest);
        const slot = order[n % order.length];
        n++;
        const d = x.dataSync();
        const u = x.shape[x.shape.length - 1];
        if (test) {
          let hits = 0;
          for (let i = 0; i < d.length; i++) {
            if (test(d[i])) {
              hits++;
            } else if ((JUMP_KINKS[name] || []).some(q => Math.abs(d[i] - q) < NEAR_KINK)) {
              stats.near.push(`cell ${k} ${name} ${d[i]}`);
            }
          }
          if (hits) stats.hits[name] = (stats.hits[name] || 0) + hits;
        }
        for (const p of pins) {
          if (p.gate_index !== slot) continue;
          for (let b = 0; b < d.length / u; b++) {
            if (d[b * u + p.unit] !== p.pre_activation) {
              throw new Error(`kink cell ${k} gate ${p.gate} unit ${p.unit}: pre-activation ${d[b * u + p.unit]} instead of ${p.pre_activation}`);
            }
          }
          stats.pinnedChecked++;
        }
        return orig(x, ...rest);
      };
    }
  });
}

function dropCachedMasks(layer) {
  for (const cell of allCells(layer)) {
    if (cell.dropoutMask != null) tf.dispose(cell.dropoutMask);
    if (cell.recurrentDropoutMask != null) tf.dispose(cell.recurrentDropoutMask);
    cell.dropoutMask = null;
    cell.recurrentDropoutMask = null;
  }
}

// ctx: {replay: recorded case object or null, stats: validation stats or null}
function runCase(spec, ctx) {
  // `reseed` (rare): another data stream when the first one puts a
  // pre-activation next to a kink (see NEAR_KINK)
  const rng = dataRng(spec.reseed ? `${spec.name}#${spec.reseed}` : spec.name);
  const drng = mulberry32(fnv1a(spec.name) ^ DROPOUT_SALT);
  const {xRange, wRange, twin, out} = startCase(spec, TWIN_DATA);
  const validating = ctx.replay != null;

  // 1. construct
  const layer = buildLayer(spec.layer);
  const resolved = resolve(layer);
  out.resolved = resolved;
  if (spec.recordRange) out.weight_range = wRange;
  const cells = allCells(layer);

  // 2. inputs of every step, drawn up front
  const firstRun = spec.steps.find(s => s.op !== 'reset_states');
  const stepInputs = spec.steps.map((st, si) => {
    if (twin) return twin.inputs[si];
    if (st.op === 'reset_states') {
      if (st.states === undefined) return null;
      return {states: randomStates(rng, resolved, firstRun.xShape[0])};
    }
    const [B, T, F] = st.xShape;
    const inp = {x: randomTensor(rng, st.xShape, xRange)};
    if (spec.zeroX) {
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          if (!spec.zeroX.rows.includes(b) && !spec.zeroX.steps.includes(t)) continue;
          for (let f = 0; f < F; f++) inp.x.data[(b * T + t) * F + f] = 0;
        }
      }
    }
    if (st.mask !== undefined) inp.mask = randomMask(rng, B, T, st.mask);
    if (st.initialState) inp.initial_state = randomStates(rng, resolved, B);
    if (st.op === 'grad') {
      inp.output_weights = outputShapes(resolved, st.xShape).map(sh => randomTensor(rng, sh, 1.0));
    }
    return inp;
  });

  // 3. build (throw-away inference call), set weights, reset states, drop the
  //    masks cached by the build call
  buildWithZeros(layer, firstRun.xShape);
  const vars = layer.weights;
  const names = vars.map(v => v.originalName);
  const values = weightValues(spec.name, rng, twin, vars, names, wRange);
  let kinks;
  if (spec.kinks) {
    kinks = spec.kinks.map(([k, gate, unit, pre]) => {
      const cell = cells[k];
      const cls = cell.getClassName();
      const gi = GATES[cls].indexOf(gate);
      if (gi < 0 || unit >= cell.units) throw new Error(`${spec.name}: bad kink ${gate}${unit}`);
      const width = GATES[cls].length * cell.units;
      const column = gi * cell.units + unit;
      const idx = w => vars.indexOf(w);
      const ki = idx(cell.kernel), ri = idx(cell.recurrentKernel);
      const bi = cell.bias == null ? -1 : idx(cell.bias);
      if (ki < 0 || ri < 0 || bi < 0) throw new Error(`${spec.name}: kink cell weights not found`);
      for (const wi of [ki, ri]) {
        for (let r = 0; r < values[wi].length / width; r++) values[wi][r * width + column] = 0;
      }
      values[bi][column] = pre;
      return {cell: k, gate, gate_index: gi, unit, column, pre_activation: pre};
    });
    out.kinks = kinks;
  }
  out.weights = setWeights(spec.name, layer, vars, names, values);
  dropCachedMasks(layer);
  if (!twin && !validating) TWIN_DATA.set(spec.name, {values, names, inputs: stepInputs, steps: null});

  // 4. dropout functions: generation draws keep flags; replay hands out the
  //    recorded mask[0] for each of the cell's 1/3/4 requests
  const queues = cells.map(() => []);
  cells.forEach((cell, k) => {
    if (!validating) {
      cell.dropoutFunc = (ones, rate) => {
        const n = prod(ones.shape);
        if (n < 2) throw new Error(`${spec.name}: a dropout mask needs >= 2 entries`);
        let keep;
        do {
          keep = new Float32Array(n);
          for (let i = 0; i < n; i++) keep[i] = drng() < 1 - rate ? 1 : 0;
        } while (!(keep.includes(0) && keep.includes(1)));
        return tf.tidy(() => tf.div(tf.mul(ones, tf.tensor(keep, ones.shape)), 1 - rate));
      };
    } else {
      cell.dropoutFunc = (ones, rate) => {
        const q = queues[k].shift();
        if (q == null) throw new Error(`${spec.name}: unexpected dropout request of cell ${k}`);
        if (q.rate !== rate || q.shape.join() !== ones.shape.join()) {
          throw new Error(`${spec.name}: replayed mask of cell ${k} does not fit the request`);
        }
        return tf.tensor(q.data, q.shape, 'float32');
      };
    }
  });
  if (validating) installKinkProbes(layer, kinks || [], ctx.stats);

  // 5. replay
  const stepsOut = [];
  const rawMasks = [];  // per step: per cell [input data|null, recurrent data|null]
  for (let si = 0; si < spec.steps.length; si++) {
    const st = spec.steps[si];
    const inp = stepInputs[si];
    if (st.op === 'reset_states') {
      const rec = {op: 'reset_states'};
      if (inp) {
        rec.states = statesJSON(resolved, inp.states);
        layer.resetStates(inp.states.map(toTensor));
      } else {
        layer.resetStates();
      }
      stepsOut.push(rec);
      rawMasks.push(null);
      continue;
    }
    const training = st.training === true;
    const rec = {op: st.op};
    if (st.training !== undefined) rec.training = st.training;
    rec.inputs = inputsJSON(resolved, inp);
    // replay queues for this step
    const hadMasks = cells.map(c => c.dropoutMask != null || c.recurrentDropoutMask != null);
    const queued = cells.map(() => 0);
    if (validating) {
      const recorded = ctx.replay.steps[si].dropout_masks || [];
      cells.forEach((cell, k) => {
        queues[k] = [];
        const e = recorded.find(m => m.cell === k);
        if (!e) return;
        const count = MASK_COUNT[cell.getClassName()];
        for (const [key, rate] of [['input', cell.dropout], ['recurrent', cell.recurrentDropout]]) {
          if (!e[key]) continue;
          for (let i = 0; i < count; i++) {
            queues[k].push({rate, shape: e[key].shape, data: e[key].data.a});
          }
        }
        queued[k] = queues[k].length;
      });
    }
    const kwargs = {};
    const maskT = inp.mask ? toTensor(inp.mask) : null;
    if (maskT) kwargs.mask = maskT;
    if (st.training !== undefined) kwargs.training = st.training;
    const outNames = resolved.output_names;
    let outs;  // kept output tensors
    if (st.op === 'call') {
      const stateT = inp.initial_state ? inp.initial_state.map(toTensor) : null;
      if (stateT) kwargs.initialState = stateT;
      outs = tf.tidy(() => applyLayer(layer, toTensor(inp.x), kwargs));
      tf.dispose(stateT || []);
      rec.outputs = outs.map((t, k) => tensorJSON(outNames[k], t.shape, t.dataSync()));
      tf.dispose(outs);
    } else {
      const T = inp.x.shape[1];
      const ow = inp.output_weights.map(toTensor);
      const xVar = tf.variable(toTensor(inp.x), true);
      const stateVars = inp.initial_state ? inp.initial_state.map(s => tf.variable(toTensor(s), true)) :
                                            null;
      if (stateVars) kwargs.initialState = stateVars;
      const weightVars = vars.map(v => v.val);
      const loss = () => {
        const y = applyLayer(layer, xVar, kwargs);
        if (y.length !== ow.length) throw new Error(`${spec.name}: ${y.length} outputs`);
        outs = y.map(t => tf.keep(t));
        let total = null;
        y.forEach((o, k) => {
          const s = tf.sum(tf.mul(o, ow[k]));
          total = total === null ? s : tf.add(total, s);
        });
        return total;
      };
      const others = (stateVars || []).concat(weightVars);
      let res;
      if (T === 1) {
        // TF.js cannot give dL/dx for T = 1: confirm it still throws, then
        // differentiate w.r.t. everything else
        if (layer.stateful || training) {
          throw new Error(`${spec.name}: T=1 grad steps must be inference and non-stateful`);
        }
        let threw = null;
        if (ctx.stats) ctx.stats.paused = true;  // count kinks of the recorded pass only
        try {
          const r = tf.variableGrads(loss, [xVar].concat(others));
          tf.dispose([r.value].concat(Object.values(r.grads)));
        } catch (e) {
          threw = e;
        }
        tf.dispose(outs || []);
        if (!threw || threw.message !== T1_MESSAGE) {
          throw new Error(`${spec.name}: TF.js was expected to throw "${T1_MESSAGE}" for T=1, got ${threw ? threw.message : 'no error'}`);
        }
        if (ctx.stats) ctx.stats.t1Throws++;
        if (ctx.stats) ctx.stats.paused = false;
        res = tf.variableGrads(loss, others);
      } else {
        res = tf.variableGrads(loss, [xVar].concat(others));
      }
      outs.forEach((t, k) => {
        if (t.shape.join() !== inp.output_weights[k].shape.join()) {
          throw new Error(`${spec.name}: output ${k} shape ${t.shape} vs predicted ${inp.output_weights[k].shape}`);
        }
      });
      rec.output_weights = inp.output_weights.map((w, k) => tensorJSON(outNames[k], w.shape, w.data));
      rec.outputs = outs.map((t, k) => tensorJSON(outNames[k], t.shape, t.dataSync()));
      rec.loss = new F32Num(res.value.dataSync()[0]);
      const g = v => {
        const t = res.grads[v.name];
        if (t === null) throw new Error(`${spec.name}: non-trainable variable ${v.name}`);
        return t === undefined ? new Float32Array(prod(v.shape)) : t.dataSync();
      };
      const gradients = {};
      if (T === 1) {
        if (res.grads[xVar.name] !== undefined) throw new Error(`${spec.name}: unexpected x gradient`);
        gradients.x = null;
      } else {
        if (res.grads[xVar.name] == null) throw new Error(`${spec.name}: no x gradient`);
        gradients.x = tensorJSON(null, xVar.shape, g(xVar));
      }
      if (stateVars) {
        gradients.initial_state =
            stateVars.map((v, k) => tensorJSON(stateName(resolved, k, stateVars.length), v.shape, g(v)));
      }
      gradients.weights = weightVars.map((v, i) => tensorJSON(names[i], v.shape, g(v)));
      rec.gradients = gradients;
      // validation: the grad step's outputs are what a plain inference call
      // returns (non-stateful, no dropout anywhere, so the extra call changes
      // nothing)
      if (validating && !layer.stateful && !training &&
          cells.every(c => !active(c.dropout) && !active(c.recurrentDropout))) {
        const kw2 = {};
        ctx.stats.paused = true;
        if (maskT) kw2.mask = maskT;
        const st2 = inp.initial_state ? inp.initial_state.map(toTensor) : null;
        if (st2) kw2.initialState = st2;
        const y2 = tf.tidy(() => applyLayer(layer, toTensor(inp.x), kw2));
        y2.forEach((t, k) => {
          if (!sameData(t.dataSync(), outs[k].dataSync())) {
            throw new Error(`${spec.name}: grad outputs differ from a plain call`);
          }
        });
        tf.dispose(y2.concat(st2 || []));
        ctx.stats.paused = false;
        ctx.stats.callParity++;
      }
      tf.dispose([res.value, xVar].concat(Object.values(res.grads), stateVars || [], ow, outs));
    }
    tf.dispose(maskT || []);

    // dropout masks TF.js applied in this step
    const stepMasks = cells.map(() => null);
    if (training) {
      rec.dropout_masks = [];
      cells.forEach((cell, k) => {
        const inAct = active(cell.dropout), recAct = active(cell.recurrentDropout);
        if (!inAct && !recAct) return;
        const e = {cell: k};
        const raw = [null, null];
        [[inAct, cell.dropoutMask, 'input', cell.dropout],
         [recAct, cell.recurrentDropoutMask, 'recurrent', cell.recurrentDropout]].forEach(
            ([on, m, key, rate], j) => {
              if (!on) return;
              const t = maskOf(m);
              if (t == null) throw new Error(`${spec.name}: cell ${k} has no ${key} mask`);
              const d = t.dataSync();
              const scale = Math.fround(1 / Math.fround(1 - rate));
              if (!d.every(v => v === 0 || v === scale) || !d.includes(0) || !d.includes(scale)) {
                throw new Error(`${spec.name}: cell ${k} ${key} mask is not 0 / ${scale} with both present`);
              }
              e[key] = tensorJSON(null, t.shape, d);
              raw[j] = Array.from(d);
            });
        rec.dropout_masks.push(e);
        stepMasks[k] = raw;
      });
    }
    if (validating) {
      cells.forEach((cell, k) => {
        const left = queues[k].length;
        // every request served, or none made because the masks were cached
        if (left !== 0 && !(hadMasks[k] && left === queued[k])) {
          throw new Error(`${spec.name}: cell ${k}: ${left} replayed masks left unused`);
        }
        queues[k] = [];
      });
    }
    stepsOut.push(rec);
    rawMasks.push(stepMasks);
  }
  out.steps = stepsOut;

  // 6. twins, mask expectations
  if (twin) {
    out.equal_to = spec.twinOf;
    const main = twin.steps;
    const pick = s => ser({outputs: s.outputs, loss: s.loss, gradients: s.gradients}, 0);
    if (main.length !== stepsOut.length ||
        main.some((s, i) => s.op !== stepsOut[i].op || pick(s) !== pick(stepsOut[i]))) {
      throw new Error(`${spec.name}: outputs/gradients differ from twin ${spec.twinOf}`);
    }
  } else if (!validating) {
    TWIN_DATA.get(spec.name).steps = stepsOut;
  }
  const masksEqual = (a, b) => JSON.stringify(rawMasks[a]) === JSON.stringify(rawMasks[b]);
  if (spec.masksSame && !masksEqual(...spec.masksSame)) {
    throw new Error(`${spec.name}: masks of steps ${spec.masksSame} should be the same`);
  }
  if (spec.masksDiffer && masksEqual(...spec.masksDiffer)) {
    throw new Error(`${spec.name}: masks of steps ${spec.masksDiffer} should differ`);
  }
  out.tolerance = TOLERANCE;
  out.grad_tolerance = GRAD_TOLERANCE;
  layer.dispose();
  return out;
}

// ---------------------------------------------------------------------------
function countGradEntries(obj) {
  let n = 0, steps = 0, nullX = 0;
  for (const s of obj.steps) {
    if (s.op !== 'grad') continue;
    steps++;
    const g = s.gradients;
    if (g.x) n += g.x.data.a.length; else nullX++;
    for (const t of (g.initial_state || [])) n += t.data.a.length;
    for (const t of g.weights) n += t.data.a.length;
  }
  return {n, steps, nullX};
}

async function main() {
  const args = process.argv.slice(2);
  const validate = !args.includes('--no-validate');
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? args[onlyAt + 1] : null;
  const outDir = args.find((a, i) => !a.startsWith('--') && !(onlyAt >= 0 && i === onlyAt + 1));
  if (!outDir) {
    console.error('usage: node generate_grad_cases.js OUTDIR [--no-validate] [--only SUBSTRING]');
    process.exit(2);
  }
  const stats = {hits: {}, near: [], paused: false, pinnedChecked: 0, t1Throws: 0, callParity: 0, replayed: 0,
                 masked: 0, kinkCases: new Map()};
  let bytes = 0, entries = 0, gradSteps = 0, nullX = 0;
  const nearKink = [];
  const names = await writeCases(CASES, outDir, spec => {
    if (only && !spec.name.includes(only) && !CASES.some(
        s => s.twinOf === spec.name && s.name.includes(only))) {
      return null;
    }
    const obj = runCase(spec, {replay: null, stats: null});
    const text = ser(obj, 0) + '\n';
    if (validate) {
      const before = Object.assign({}, stats.hits);
      stats.near = [];
      const again = runCase(spec, {replay: obj, stats});
      if (stats.near.length) nearKink.push(`${spec.name} (${stats.near.slice(0, 3).join('; ')})`);
      if (ser(again, 0) + '\n' !== text) {
        throw new Error(`${spec.name}: the validation re-run (recorded masks replayed) is not byte-identical`);
      }
      stats.replayed++;
      if (obj.steps.some(s => s.dropout_masks && s.dropout_masks.length)) stats.masked++;
      const hit = Object.keys(stats.hits).reduce((a, k) => a + stats.hits[k] - (before[k] || 0), 0);
      if (hit) stats.kinkCases.set(spec.name, hit);
    }
    bytes += Buffer.byteLength(text);
    const c = countGradEntries(obj);
    entries += c.n;
    gradSteps += c.steps;
    nullX += c.nullX;
    return text;
  });
  const stale = fs.readdirSync(outDir).filter(f => f.endsWith('.json') && !names.has(f.slice(0, -5)));
  process.stdout.write(`${gradSteps} grad steps (${nullX} with gradients.x = null, T=1), ` +
                       `${entries} gradient entries, ${(bytes / 1024).toFixed(0)} KiB\n`);
  if (validate) {
    const hits = Object.entries(stats.hits).map(([k, v]) => `${k} ${v}`).join(', ');
    process.stdout.write(
        `validated: ${stats.replayed} cases re-run byte-identical (${stats.masked} with dropout masks replayed as mask[0] for every request); ` +
        `${stats.callParity} grad steps equal a plain call; T=1 throw confirmed ${stats.t1Throws}x; ` +
        `${stats.pinnedChecked} pinned kink pre-activations exact\n`);
    process.stdout.write(`exact kink evaluations: ${hits || 'none'} in ${stats.kinkCases.size} cases (` +
                         Array.from(stats.kinkCases, ([n, h]) => `${n} ${h}`).join(', ') + ')\n');
  }
  if (nearKink.length) {
    throw new Error(`pre-activations within ${NEAR_KINK} of a kink (ambiguous derivative; give these cases a \`reseed\`): ${nearKink.join(', ')}`);
  }
  if (stale.length && !only) {
    process.stdout.write(`warning: ${stale.length} stale file(s) in ${outDir}: ${stale.join(', ')}\n`);
  }
}

runMain(main);
