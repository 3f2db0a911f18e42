#!/usr/bin/env node
// Golden-case generator for the `recurrent` library.
//
// Usage:  node generate_cases.js OUTDIR
//
// Builds TF.js 4.22.0 recurrent layers (pure-JS `cpu` backend), sets seeded
// random weights, replays the recorded calls and writes one JSON file per case
// in the schema of tests/golden/README.md (schema_version 1). Every expected
// value is what TF.js itself returned; nothing is computed here.
//
// Deterministic: every random choice comes from a mulberry32 PRNG seeded from
// the case name, so running twice produces byte-identical files.
'use strict';

const {
  tf, dataRng, ser, buildLayer, resolve, TAG_OF, LAYERS, L, C, RNN, Bidi, ACTIVATIONS,
  tensorJSON, randomTensor, randomStates, randomMask, weightValues, statesJSON,
  inputsJSON, toTensor, applyLayer, buildWithZeros, setWeights, TOLERANCE, UNBOUNDED_GATE, bigRange,
  caseList, call, reset, startCase, writeCases, runMain,
} = require('./common');

// ---------------------------------------------------------------------------
// Case specs
// ---------------------------------------------------------------------------
const {CASES, addCase, dropoutTwins} = caseList();
// steps (call and reset from common.js)
function callShape(xShape, opts = {}) {
  return Object.assign({op: 'call', xShape}, opts);
}
function flagsText(cfg) {
  const parts = [];
  if (cfg.returnSequences) parts.push('returnSequences');
  if (cfg.returnState) parts.push('returnState');
  if (cfg.goBackwards) parts.push('goBackwards');
  return parts.length ? parts.join('+') : 'last output only';
}

// ---------------------------------------------------------------------------
// basic: 8 configs per cell type, defaults omitted vs spelled out
// ---------------------------------------------------------------------------
(function basic() {
  // [B, T, F, units, returnSequences]
  const table = [
    [2, 1, 6, 7, false], [3, 5, 2, 4, true], [1, 12, 9, 10, false], [4, 7, 1, 3, true],
    [1, 10, 7, 1, true], [2, 8, 5, 6, false], [3, 3, 3, 2, true], [4, 11, 8, 9, false],
  ];
  LAYERS.forEach((cls, ci) => {
    for (let i = 0; i < 8; i++) {
      const [B, T, F, u, seq] = table[(i + 3 * ci) % 8];
      const spelled = i % 2 === 1;
      const cfg = {units: u};
      if (spelled) {
        cfg.activation = 'tanh';
        if (cls !== 'SimpleRNN') cfg.recurrentActivation = 'hardSigmoid';
        cfg.useBias = true;
        if (cls === 'LSTM') cfg.unitForgetBias = true;
        cfg.dropout = 0;
        cfg.recurrentDropout = 0;
        cfg.returnSequences = seq;
        cfg.returnState = false;
        cfg.goBackwards = false;
        cfg.stateful = false;
        cfg.unroll = false;
      } else {
        cfg.returnSequences = seq;
      }
      addCase('basic', TAG_OF[cls] + (spelled ? '_explicit_defaults' : ''),
              `${cls} units=${u}, B=${B} T=${T} F=${F}, returnSequences=${seq}, ` +
                  (spelled ? 'default arguments spelled out explicitly' :
                             'default activations (omitted)'),
              L(cls, cfg), [call(B, T, F)]);
    }
  });
})();

// ---------------------------------------------------------------------------
// activation: every activation as `activation` (3 cells) and as
// `recurrentActivation` (GRU, LSTM)
// ---------------------------------------------------------------------------
// (UNBOUNDED_GATE recurrent activations get smaller weights/inputs: common.js)
(function activation() {
  const steps = () => [call(2, 5, 3)];
  for (const cls of LAYERS) {
    for (const a of ACTIVATIONS) {
      addCase('activation', `${TAG_OF[cls]}_act_${a}`,
              `${cls} activation=${a}` +
                  (cls === 'SimpleRNN' ? '' : ' (recurrentActivation default hardSigmoid)'),
              L(cls, {units: 4, activation: a, returnSequences: true}), steps(),
              {wRange: 0.7, xRange: 1.5});
    }
    if (cls === 'SimpleRNN') continue;
    for (const a of ACTIVATIONS) {
      addCase('activation', `${TAG_OF[cls]}_recact_${a}`,
              `${cls} recurrentActivation=${a}, activation=tanh`,
              L(cls, {units: 4, activation: 'tanh', recurrentActivation: a, returnSequences: true}),
              steps(), UNBOUNDED_GATE.has(a) ? {wRange: 0.4, xRange: 1.0} : {wRange: 0.7, xRange: 1.5});
    }
  }
})();

// ---------------------------------------------------------------------------
// activation_null
// ---------------------------------------------------------------------------
(function activationNull() {
  const opts = {wRange: 0.6, xRange: 1.5};
  addCase('activation_null', 'simplernn_act_null',
          'SimpleRNN activation=null -> TF.js falls back to the default tanh (args.activation == null)',
          L('SimpleRNN', {units: 3, activation: null, returnSequences: true}), [call(2, 4, 3)], opts);
  addCase('activation_null', 'gru_act_null',
          'GRU activation=null -> linear (GRUCell tests args.activation === undefined, then getActivation(null) = linear)',
          L('GRU', {units: 3, activation: null, returnSequences: true}), [call(2, 4, 3)], opts);
  addCase('activation_null', 'lstm_act_null',
          'LSTM activation=null -> linear (LSTMCell tests args.activation === undefined, then getActivation(null) = linear)',
          L('LSTM', {units: 3, activation: null, returnSequences: true}), [call(2, 4, 3)], opts);
  addCase('activation_null', 'gru_recact_null',
          'GRU recurrentActivation=null -> linear (not the hardSigmoid default)',
          L('GRU', {units: 3, recurrentActivation: null, returnSequences: true}), [call(2, 4, 3)],
          opts);
  addCase('activation_null', 'lstm_recact_null',
          'LSTM recurrentActivation=null -> linear (not the hardSigmoid default)',
          L('LSTM', {units: 3, recurrentActivation: null, returnSequences: true}), [call(2, 4, 3)],
          opts);
})();

// ---------------------------------------------------------------------------
// use_bias
// ---------------------------------------------------------------------------
(function useBias() {
  for (const cls of LAYERS) {
    addCase('use_bias', `${TAG_OF[cls]}_nobias_seq`, `${cls} useBias=false, returnSequences`,
            L(cls, {units: 5, useBias: false, returnSequences: true}), [call(3, 6, 4)]);
    addCase('use_bias', `${TAG_OF[cls]}_nobias_state_back`,
            `${cls} useBias=false, returnState, goBackwards`,
            L(cls, {units: 3, useBias: false, returnState: true, goBackwards: true}),
            [call(2, 5, 3)]);
  }
  addCase('use_bias', 'stacked_lstm_nobias_gru_bias',
          'rnn([LSTMCell(3, useBias=false), GRUCell(2)]): only the GRU cell has a bias weight',
          RNN({returnSequences: true, cell: [C('LSTMCell', 'cell0', {units: 3, useBias: false}),
                                             C('GRUCell', 'cell1', {units: 2})]}),
          [call(2, 4, 3)]);
})();

// ---------------------------------------------------------------------------
// unit_forget_bias: only changes the initializer -> twin without it
// ---------------------------------------------------------------------------
(function unitForgetBias() {
  let main = addCase('unit_forget_bias', 'lstm_ufb_true',
                     'LSTM unitForgetBias=true with explicit weights',
                     L('LSTM', {units: 4, unitForgetBias: true, returnSequences: true,
                                returnState: true}),
                     [call(2, 6, 3)]);
  addCase('unit_forget_bias', 'lstm_ufb_omitted_twin',
          `Twin of ${main} with unitForgetBias omitted: identical weights, inputs and outputs`,
          L('LSTM', {units: 4, returnSequences: true, returnState: true}), [call(2, 6, 3)],
          {twinOf: main});
  main = addCase('unit_forget_bias', 'lstm_ufb_true_back',
                 'LSTM unitForgetBias=true, goBackwards, last output',
                 L('LSTM', {units: 3, unitForgetBias: true, goBackwards: true}), [call(3, 5, 2)]);
  addCase('unit_forget_bias', 'lstm_ufb_false_twin',
          `Twin of ${main} with unitForgetBias=false: identical weights, inputs and outputs`,
          L('LSTM', {units: 3, unitForgetBias: false, goBackwards: true}), [call(3, 5, 2)],
          {twinOf: main});
  main = addCase('unit_forget_bias', 'rnn_lstmcell_ufb_true',
                 'rnn(LSTMCell unitForgetBias=true) returnState',
                 RNN({returnState: true,
                      cell: C('LSTMCell', 'cell0', {units: 3, unitForgetBias: true})}),
                 [call(2, 4, 3)]);
  addCase('unit_forget_bias', 'rnn_lstmcell_ufb_omitted_twin',
          `Twin of ${main} with unitForgetBias omitted`,
          RNN({returnState: true, cell: C('LSTMCell', 'cell0', {units: 3})}), [call(2, 4, 3)],
          {twinOf: main});
})();

// ---------------------------------------------------------------------------
// flags: returnSequences x returnState x goBackwards per cell type
// ---------------------------------------------------------------------------
(function flags() {
  for (const cls of LAYERS) {
    for (let back = 0; back < 2; back++) {
      for (let st = 0; st < 2; st++) {
        for (let seq = 0; seq < 2; seq++) {
          const u = 3 + ((seq + st + back) % 2);
          addCase('flags', `${TAG_OF[cls]}_seq${seq}_state${st}_back${back}`,
                  `${cls} returnSequences=${!!seq} returnState=${!!st} goBackwards=${!!back}`,
                  L(cls, {units: u, returnSequences: !!seq, returnState: !!st,
                          goBackwards: !!back}),
                  [call(2, 6, 4)]);
        }
      }
    }
  }
})();

// ---------------------------------------------------------------------------
// mask
// ---------------------------------------------------------------------------
(function mask() {
  const rows4 = [[0, 0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0], [1, 0, 1, 0, 0, 1, 1],
                 [0, 0, 0, 0, 0, 0, 0]];
  const oneHot = [[1, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 1]];
  for (const cls of LAYERS) {
    const t = TAG_OF[cls];
    addCase('mask', `${t}_seq_state`,
            `${cls} mask rows [leading zeros, trailing zeros, interior zeros, all zero], returnSequences+returnState`,
            L(cls, {units: 4, returnSequences: true, returnState: true}),
            [call(4, 7, 3, {mask: rows4})]);
    addCase('mask', `${t}_single_kept_step`,
            `${cls} each row keeps exactly one step (t=0, 3, 5), last output + returnState`,
            L(cls, {units: 3, returnState: true}), [call(3, 6, 2, {mask: oneHot})]);
    addCase('mask', `${t}_random_back_seq_state`,
            `${cls} random mask with goBackwards+returnSequences+returnState (sequence in processing order)`,
            L(cls, {units: 4, returnSequences: true, returnState: true, goBackwards: true}),
            [call(3, 8, 3, {mask: 'random'})]);
    addCase('mask', `${t}_initstate`,
            `${cls} mask + initialState: leading masked steps output the initial h, an all-zero row returns the initial state`,
            L(cls, {units: 3, returnSequences: true, returnState: true}),
            [call(3, 5, 3, {mask: [[0, 0, 1, 1, 1], [0, 0, 0, 0, 0], [1, 0, 1, 1, 0]],
                            initialState: true})]);
  }
  addCase('mask', 'lstm_nonbinary',
          'LSTM with non-binary mask values (TF.js casts mask to bool: any non-zero counts as 1)',
          L('LSTM', {units: 3, returnSequences: true, returnState: true}),
          [call(2, 6, 3, {mask: [[0.5, 0, 2, 0.001, 0, -0.25], [-1, 1e-30, 0, 7, 0.5, 0]]})]);
  addCase('mask', 'gru_t1_initstate',
          'GRU T=1 with mask [[1],[0],[1]] and initialState: the masked row returns its initial state',
          L('GRU', {units: 3, returnSequences: true, returnState: true}),
          [call(3, 1, 2, {mask: [[1], [0], [1]], initialState: true})]);
  addCase('mask', 'simplernn_random_last',
          'SimpleRNN random mask, last output only',
          L('SimpleRNN', {units: 5}), [call(4, 9, 3, {mask: 'random'})]);
  addCase('mask', 'lstm_back_leading_trailing_state',
          'LSTM goBackwards with leading/trailing masked steps, last output + returnState',
          L('LSTM', {units: 3, goBackwards: true, returnState: true}),
          [call(3, 6, 3, {mask: [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0], [0, 1, 1, 0, 1, 0]]})]);
  addCase('mask', 'gru_back_seq_state_initstate',
          'GRU goBackwards+returnSequences+returnState with mask and initialState',
          L('GRU', {units: 4, returnSequences: true, returnState: true, goBackwards: true}),
          [call(3, 6, 3, {mask: [[1, 1, 0, 1, 1, 0], [0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0]],
                          initialState: true})]);
})();

// ---------------------------------------------------------------------------
// initial_state
// ---------------------------------------------------------------------------
(function initialState() {
  for (const cls of LAYERS) {
    addCase('initial_state', `${TAG_OF[cls]}_fwd`,
            `${cls} with initialState, returnSequences+returnState`,
            L(cls, {units: 4, returnSequences: true, returnState: true}),
            [call(3, 5, 3, {initialState: true})]);
    addCase('initial_state', `${TAG_OF[cls]}_back`,
            `${cls} with initialState and goBackwards, returnSequences+returnState`,
            L(cls, {units: 4, returnSequences: true, returnState: true, goBackwards: true}),
            [call(3, 5, 3, {initialState: true})]);
  }
  addCase('initial_state', 'lstm_last_only',
          'LSTM with initialState, last output only (no returnState)', L('LSTM', {units: 2}),
          [call(2, 3, 4, {initialState: true})]);
  addCase('initial_state', 'simplernn_repeat_calls',
          'SimpleRNN non-stateful: call with initialState, then the same layer without (starts from zeros again)',
          L('SimpleRNN', {units: 3, returnState: true}),
          [call(2, 4, 3, {initialState: true}), call(2, 4, 3)]);
})();

// ---------------------------------------------------------------------------
// stacked
// ---------------------------------------------------------------------------
(function stacked() {
  addCase('stacked', 'rnn_lstm_gru_state',
          'tf.layers.rnn({cell:[LSTMCell(3), GRUCell(2)]}) returnState: states come back in reverse cell order [cell1.h, cell0.h, cell0.c]',
          RNN({returnState: true, cell: [C('LSTMCell', 'cell0', {units: 3}),
                                         C('GRUCell', 'cell1', {units: 2})]}),
          [call(2, 5, 4)]);
  addCase('stacked', 'rnn_gru_simplernn_seq',
          'rnn([GRUCell(4), SimpleRNNCell(3)]) returnSequences',
          RNN({returnSequences: true, cell: [C('GRUCell', 'cell0', {units: 4}),
                                             C('SimpleRNNCell', 'cell1', {units: 3})]}),
          [call(3, 6, 2)]);
  addCase('stacked', 'rnn_simplernn_lstm_initstate',
          'rnn([SimpleRNNCell(2), LSTMCell(3)]) with initialState in reverse cell order [cell1.h, cell1.c, cell0.h], returnSequences+returnState',
          RNN({returnSequences: true, returnState: true,
               cell: [C('SimpleRNNCell', 'cell0', {units: 2}), C('LSTMCell', 'cell1', {units: 3})]}),
          [call(2, 4, 3, {initialState: true})]);
  addCase('stacked', 'rnn_lstm_lstm_mask_seq_state',
          'rnn([LSTMCell(3), LSTMCell(2)]) with a mask (masked steps keep all four states), returnSequences+returnState',
          RNN({returnSequences: true, returnState: true,
               cell: [C('LSTMCell', 'cell0', {units: 3}), C('LSTMCell', 'cell1', {units: 2})]}),
          [call(3, 6, 3, {mask: [[1, 1, 0, 1, 0, 0], [0, 0, 1, 1, 1, 1], [1, 0, 0, 0, 0, 1]]})]);
  addCase('stacked', 'stackedcells_lstm_gru_lstm_back_state',
          'stackedRNNCells([LSTMCell(3), GRUCell(2), LSTMCell(4)]) goBackwards + returnState',
          RNN({returnState: true, goBackwards: true,
               cell: {class_name: 'StackedRNNCells',
                      config: {name: 'stack', cells: [C('LSTMCell', 'cell0', {units: 3}),
                                                      C('GRUCell', 'cell1', {units: 2}),
                                                      C('LSTMCell', 'cell2', {units: 4})]}}}),
          [call(3, 5, 3)]);
  addCase('stacked', 'stackedcells_simplernn_gru_seq_state',
          'stackedRNNCells([SimpleRNNCell(3), GRUCell(3)]) returnSequences+returnState',
          RNN({returnSequences: true, returnState: true,
               cell: {class_name: 'StackedRNNCells',
                      config: {name: 'stack', cells: [C('SimpleRNNCell', 'cell0', {units: 3}),
                                                      C('GRUCell', 'cell1', {units: 3})]}}}),
          [call(2, 5, 4)]);
  addCase('stacked', 'rnn_three_cells_back_seq_initstate_mask',
          'rnn([GRUCell(2), LSTMCell(3), SimpleRNNCell(2)]) goBackwards+returnSequences+returnState with initialState and mask',
          RNN({returnSequences: true, returnState: true, goBackwards: true,
               cell: [C('GRUCell', 'cell0', {units: 2}), C('LSTMCell', 'cell1', {units: 3}),
                      C('SimpleRNNCell', 'cell2', {units: 2})]}),
          [call(2, 5, 3, {mask: [[1, 1, 1, 0, 0], [0, 1, 0, 1, 1]], initialState: true})]);
  addCase('stacked', 'rnn_array_of_one_gru',
          'rnn({cell:[GRUCell(3)]}): an array of one cell is still wrapped in StackedRNNCells (weights named RNNCell_0, states cell0.*)',
          RNN({returnSequences: true, returnState: true,
               cell: [C('GRUCell', 'cell0', {units: 3})]}),
          [call(2, 4, 3)]);
  addCase('stacked', 'rnn_single_lstmcell',
          'generic tf.layers.rnn with a single LSTMCell (not an array), returnState',
          RNN({returnState: true, cell: C('LSTMCell', 'cell0', {units: 3})}), [call(2, 5, 3)]);
  addCase('stacked', 'rnn_single_simplernncell_seq_mask',
          'generic tf.layers.rnn with a single SimpleRNNCell, returnSequences, mask',
          RNN({returnSequences: true, cell: C('SimpleRNNCell', 'cell0', {units: 4})}),
          [call(2, 6, 3, {mask: [[1, 0, 1, 1, 0, 1], [0, 0, 1, 1, 1, 0]]})]);
  addCase('stacked', 'rnn_single_grucell_back_state_initstate',
          'generic tf.layers.rnn with a single GRUCell, goBackwards+returnState with initialState',
          RNN({returnState: true, goBackwards: true, cell: C('GRUCell', 'cell0', {units: 3})}),
          [call(3, 4, 2, {initialState: true})]);
  addCase('stacked', 'rnn_mixed_cell_options',
          'rnn([LSTMCell(3, activation=relu, recurrentActivation=sigmoid), GRUCell(2, useBias=false, recurrentActivation=tanh), SimpleRNNCell(2, activation=softsign)]) returnSequences',
          RNN({returnSequences: true,
               cell: [C('LSTMCell', 'cell0', {units: 3, activation: 'relu',
                                              recurrentActivation: 'sigmoid'}),
                      C('GRUCell', 'cell1', {units: 2, useBias: false, recurrentActivation: 'tanh'}),
                      C('SimpleRNNCell', 'cell2', {units: 2, activation: 'softsign'})]}),
          [call(2, 5, 3)]);
  addCase('stacked', 'stackedcells_lstm_lstm_mask_back_last',
          'stackedRNNCells([LSTMCell(2), LSTMCell(3)]) goBackwards with mask, last output only',
          RNN({goBackwards: true,
               cell: {class_name: 'StackedRNNCells',
                      config: {name: 'stack', cells: [C('LSTMCell', 'cell0', {units: 2}),
                                                      C('LSTMCell', 'cell1', {units: 3})]}}}),
          [call(3, 5, 2, {mask: [[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 0, 1, 0, 1]]})]);
})();

// ---------------------------------------------------------------------------
// stateful
// ---------------------------------------------------------------------------
(function stateful() {
  addCase('stateful', 'lstm_last', 'stateful LSTM: 3 batches, resetStates(), 1 batch',
          L('LSTM', {units: 3, stateful: true}),
          [call(2, 4, 3), call(2, 4, 3), call(2, 4, 3), reset(), call(2, 4, 3)]);
  addCase('stateful', 'gru_seq_state', 'stateful GRU returnSequences+returnState: 3 batches, resetStates(), 1 batch',
          L('GRU', {units: 4, stateful: true, returnSequences: true, returnState: true}),
          [call(3, 3, 2), call(3, 3, 2), call(3, 3, 2), reset(), call(3, 3, 2)]);
  addCase('stateful', 'simplernn_mask',
          'stateful SimpleRNN with masks: masked steps keep the carried state (an all-zero row carries it unchanged to the next call)',
          L('SimpleRNN', {units: 3, stateful: true, returnSequences: true}),
          [call(2, 4, 3, {mask: [[1, 1, 0, 0], [1, 0, 1, 1]]}),
           call(2, 4, 3, {mask: [[0, 0, 0, 0], [0, 1, 1, 0]]}),
           call(2, 4, 3, {mask: [[0, 1, 1, 1], [1, 1, 1, 1]]}), reset(),
           call(2, 4, 3, {mask: [[1, 0, 1, 0], [0, 0, 1, 1]]})]);
  addCase('stateful', 'lstm_back_seq_state', 'stateful LSTM goBackwards returnSequences+returnState',
          L('LSTM', {units: 2, stateful: true, goBackwards: true, returnSequences: true,
                     returnState: true}),
          [call(2, 3, 3), call(2, 3, 3), call(2, 3, 3), reset(), call(2, 3, 3)]);
  addCase('stateful', 'stacked_lstm_gru', 'stateful rnn([LSTMCell(3), GRUCell(2)]) returnState',
          RNN({stateful: true, returnState: true,
               cell: [C('LSTMCell', 'cell0', {units: 3}), C('GRUCell', 'cell1', {units: 2})]}),
          [call(2, 3, 3), call(2, 3, 3), call(2, 3, 3), reset(), call(2, 3, 3)]);
  addCase('stateful', 'gru_reset_values',
          'stateful GRU: 2 calls, resetStates(values), 1 call, resetStates(), 1 call',
          L('GRU', {units: 3, stateful: true, returnState: true}),
          [call(2, 4, 2), call(2, 4, 2), reset('random'), call(2, 4, 2), reset(), call(2, 4, 2)]);
  addCase('stateful', 'lstm_initstate_mid',
          'stateful LSTM: initialState passed on the 2nd call overrides the carried state; the 3rd call continues from the 2nd call\'s final state',
          L('LSTM', {units: 3, stateful: true, returnState: true}),
          [call(2, 3, 2), call(2, 3, 2, {initialState: true}), call(2, 3, 2), reset(),
           call(2, 3, 2)]);
  addCase('stateful', 'stacked_reset_values_seq',
          'stateful rnn([GRUCell(2), LSTMCell(3)]) resetStates(values) in reverse cell order [cell1.h, cell1.c, cell0.h]',
          RNN({stateful: true, returnSequences: true, returnState: true,
               cell: [C('GRUCell', 'cell0', {units: 2}), C('LSTMCell', 'cell1', {units: 3})]}),
          [call(2, 3, 3), reset('random'), call(2, 3, 3), call(2, 3, 3), reset(), call(2, 3, 3)]);
  addCase('stateful', 'simplernn_b1_varying_t',
          'stateful SimpleRNN batch 1 with different time lengths per call (1, 5, 2 | reset | 3)',
          L('SimpleRNN', {units: 4, stateful: true, returnSequences: true}),
          [call(1, 1, 2), call(1, 5, 2), call(1, 2, 2), reset(), call(1, 3, 2)]);
  addCase('stateful', 'bidi_gru_concat',
          'stateful Bidirectional(GRU) concat: both directions carry state between calls; resetStates() zeros both',
          Bidi({mergeMode: 'concat'},
               L('GRU', {units: 2, stateful: true, returnSequences: true})),
          [call(2, 3, 3), call(2, 3, 3), call(2, 3, 3), reset(), call(2, 3, 3)]);
  addCase('stateful', 'bidi_lstm_state',
          'stateful Bidirectional(LSTM) ave returnState',
          Bidi({mergeMode: 'ave'}, L('LSTM', {units: 3, stateful: true, returnState: true})),
          [call(2, 4, 2), call(2, 4, 2), reset(), call(2, 4, 2)]);
  addCase('stateful', 'gru_varying_t_mask',
          'stateful GRU B=3 with varying T (2, 6, 1) and masks',
          L('GRU', {units: 3, stateful: true, returnSequences: true}),
          [call(3, 2, 2, {mask: 'random'}), call(3, 6, 2, {mask: 'random'}),
           call(3, 1, 2, {mask: [[1], [0], [1]]}), reset(), call(3, 2, 2)]);
})();

// ---------------------------------------------------------------------------
// bidirectional
// ---------------------------------------------------------------------------
(function bidirectional() {
  const modes = ['concat', 'sum', 'ave', 'mul', null, undefined];
  const modeTag = m => (m === undefined ? 'default' : m === null ? 'null' : m);
  LAYERS.forEach((cls, ci) => {
    modes.forEach((m, mi) => {
      const seq = (mi + ci) % 2 === 1;
      const cfg = m === undefined ? {} : {mergeMode: m};
      addCase('bidirectional', `${TAG_OF[cls]}_${modeTag(m)}${seq ? '_seq' : ''}`,
              `Bidirectional(${cls}) mergeMode=${m === undefined ? 'omitted (default concat)' : m} returnSequences=${seq}`,
              Bidi(cfg, L(cls, {units: 3, returnSequences: seq})), [call(2, 5, 3)]);
    });
  });
  addCase('bidirectional', 'simplernn_ave_state',
          'Bidirectional(SimpleRNN) mergeMode=ave returnState (outputs: merged output(s), forward states, backward states)',
          Bidi({mergeMode: 'ave'}, L('SimpleRNN', {units: 3, returnState: true})), [call(2, 4, 2)]);
  addCase('bidirectional', 'gru_null_seq_state',
          'Bidirectional(GRU) mergeMode=null returnSequences+returnState: [output_forward, output_backward, forward.h, backward.h]',
          Bidi({mergeMode: null}, L('GRU', {units: 2, returnSequences: true, returnState: true})),
          [call(2, 4, 3)]);
  addCase('bidirectional', 'lstm_concat_initstate',
          'Bidirectional(LSTM) with initialState [fw.h, fw.c, bw.h, bw.c], returnSequences+returnState',
          Bidi({mergeMode: 'concat'},
               L('LSTM', {units: 3, returnSequences: true, returnState: true})),
          [call(2, 4, 3, {initialState: true})]);
  addCase('bidirectional', 'gru_inner_gobackwards',
          'Bidirectional(GRU goBackwards=true): the "forward" layer runs backwards and the "backward" layer forwards',
          Bidi({mergeMode: 'concat'}, L('GRU', {units: 2, goBackwards: true, returnSequences: true})),
          [call(2, 5, 3)]);
  addCase('bidirectional', 'lstm_inner_gobackwards_state',
          'Bidirectional(LSTM goBackwards=true) sum, last output + returnState',
          Bidi({mergeMode: 'sum'}, L('LSTM', {units: 3, goBackwards: true, returnState: true})),
          [call(2, 4, 2)]);
  addCase('bidirectional', 'lstm_sum_mask_seq',
          'Bidirectional(LSTM) sum with mask, returnSequences (masked steps repeat the previous output in each direction)',
          Bidi({mergeMode: 'sum'}, L('LSTM', {units: 3, returnSequences: true})),
          [call(3, 6, 3, {mask: [[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1], [1, 0, 1, 0, 1, 0]]})]);
  addCase('bidirectional', 'simplernn_mul_mask_last_state',
          'Bidirectional(SimpleRNN) mul with mask, last output + returnState',
          Bidi({mergeMode: 'mul'}, L('SimpleRNN', {units: 3, returnState: true})),
          [call(3, 5, 2, {mask: [[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [0, 0, 0, 0, 0]]})]);
  addCase('bidirectional', 'gru_concat_mask_initstate_seq_state',
          'Bidirectional(GRU) concat with mask and initialState, returnSequences+returnState',
          Bidi({mergeMode: 'concat'},
               L('GRU', {units: 3, returnSequences: true, returnState: true})),
          [call(2, 5, 2, {mask: [[1, 0, 1, 1, 0], [0, 0, 1, 1, 1]], initialState: true})]);
  addCase('bidirectional', 'simplernn_t1_b1',
          'Bidirectional(SimpleRNN) concat with T=1, B=1, returnSequences',
          Bidi({mergeMode: 'concat'}, L('SimpleRNN', {units: 2, returnSequences: true})),
          [call(1, 1, 3)]);
  addCase('bidirectional', 'lstm_t1_b1_null_state',
          'Bidirectional(LSTM) mergeMode=null with T=1, B=1, returnState',
          Bidi({mergeMode: null}, L('LSTM', {units: 2, returnState: true})), [call(1, 1, 2)]);
  addCase('bidirectional', 'gru_options_ave_seq',
          'Bidirectional(GRU activation=softsign recurrentActivation=sigmoid useBias=false) ave returnSequences',
          Bidi({mergeMode: 'ave'},
               L('GRU', {units: 3, activation: 'softsign', recurrentActivation: 'sigmoid',
                         useBias: false, returnSequences: true})),
          [call(2, 4, 3)]);
})();

// ---------------------------------------------------------------------------
// dropout: inference => no-op; rate >= 1 or <= 0 => no dropout even in training
// ---------------------------------------------------------------------------
(function dropout() {
  const pair = dropoutTwins('dropout', 'identical outputs');
  for (const cls of LAYERS) {
    pair(`${TAG_OF[cls]}_inference`,
         `${cls} dropout=0.3 recurrentDropout=0.4, training=false`,
         L(cls, {units: 3, dropout: 0.3, recurrentDropout: 0.4, returnSequences: true,
                 returnState: true}),
         L(cls, {units: 3, returnSequences: true, returnState: true}),
         [call(2, 5, 3, {training: false})]);
  }
  pair('lstm_training_omitted', 'LSTM dropout=0.5 recurrentDropout=0.2, training omitted (undefined)',
       L('LSTM', {units: 4, dropout: 0.5, recurrentDropout: 0.2}), L('LSTM', {units: 4}),
       [call(3, 4, 2)]);
  pair('bidi_inference',
       'Bidirectional(LSTM dropout .25 recurrentDropout .25) concat, training omitted (undefined)',
       Bidi({mergeMode: 'concat'},
            L('LSTM', {units: 2, dropout: 0.25, recurrentDropout: 0.25, returnSequences: true})),
       Bidi({mergeMode: 'concat'}, L('LSTM', {units: 2, returnSequences: true})),
       [call(2, 4, 3)]);
  pair('simplernn_rate1_training',
       'SimpleRNN dropout=1 recurrentDropout=1, training=true: the dropout path needs 0 < rate < 1, so no dropout',
       L('SimpleRNN', {units: 3, dropout: 1, recurrentDropout: 1, returnSequences: true}),
       L('SimpleRNN', {units: 3, returnSequences: true}), [call(2, 4, 3, {training: true})],
       '(training=true as well)');
  pair('gru_negative_dropout_training',
       'GRU dropout=-0.5 (clamped to 0), training=true: deterministic, equals no dropout',
       L('GRU', {units: 3, dropout: -0.5, returnState: true}),
       L('GRU', {units: 3, returnState: true}), [call(2, 4, 3, {training: true})],
       '(training=true as well)');
  pair('lstm_rate_above1_training',
       'LSTM dropout=1.5 (clamped to 1) recurrentDropout=-1 (clamped to 0), training=true: no dropout',
       L('LSTM', {units: 3, dropout: 1.5, recurrentDropout: -1, returnSequences: true,
                  returnState: true}),
       L('LSTM', {units: 3, returnSequences: true, returnState: true}),
       [call(2, 4, 3, {training: true})], '(training=true as well)');
  pair('stacked_inference',
       'rnn([GRUCell(3, dropout=0.3), SimpleRNNCell(2, recurrentDropout=0.6)]) training=false',
       RNN({returnSequences: true,
            cell: [C('GRUCell', 'cell0', {units: 3, dropout: 0.3}),
                   C('SimpleRNNCell', 'cell1', {units: 2, recurrentDropout: 0.6})]}),
       RNN({returnSequences: true,
            cell: [C('GRUCell', 'cell0', {units: 3}), C('SimpleRNNCell', 'cell1', {units: 2})]}),
       [call(2, 4, 3, {training: false})]);
})();

// ---------------------------------------------------------------------------
// edge
// ---------------------------------------------------------------------------
(function edge() {
  for (const cls of LAYERS) {
    addCase('edge', `${TAG_OF[cls]}_t1`, `${cls} T=1, returnSequences+returnState`,
            L(cls, {units: 3, returnSequences: true, returnState: true}), [call(3, 1, 4)]);
  }
  for (const cls of LAYERS) {
    addCase('edge', `${TAG_OF[cls]}_all_ones_dims`, `${cls} B=1 T=1 F=1 units=1`,
            L(cls, {units: 1, returnState: true}), [call(1, 1, 1)]);
  }
  addCase('edge', 'simplernn_b1_long', 'SimpleRNN B=1 T=40 F=2 units=3',
          L('SimpleRNN', {units: 3, returnSequences: true}), [call(1, 40, 2)]);
  addCase('edge', 'gru_b1_long', 'GRU B=1 T=30 F=5 units=6',
          L('GRU', {units: 6, returnSequences: true}), [call(1, 30, 5)]);
  addCase('edge', 'lstm_b1_long', 'LSTM B=1 T=12 F=9 units=10',
          L('LSTM', {units: 10, returnSequences: true}), [call(1, 12, 9)]);
  let main = addCase('edge', 'lstm_unroll', 'LSTM unroll=true (ignored by TF.js)',
                     L('LSTM', {units: 3, unroll: true, returnSequences: true}), [call(2, 4, 2)]);
  addCase('edge', 'lstm_unroll_twin', `Twin of ${main} with unroll omitted`,
          L('LSTM', {units: 3, returnSequences: true}), [call(2, 4, 2)], {twinOf: main});
  main = addCase('edge', 'gru_implementation1', 'GRU implementation=1 (ignored: TF.js always uses implementation 2)',
                 L('GRU', {units: 3, implementation: 1, returnSequences: true}), [call(2, 4, 2)]);
  addCase('edge', 'gru_implementation_twin', `Twin of ${main} with implementation omitted`,
          L('GRU', {units: 3, returnSequences: true}), [call(2, 4, 2)], {twinOf: main});
  addCase('edge', 'lstm_repeated_calls_varying_b_t',
          'non-stateful LSTM called 3 times with different B/T (2x4, 3x6, 1x2): nothing carried over',
          L('LSTM', {units: 3, returnState: true}), [call(2, 4, 3), call(3, 6, 3), call(1, 2, 3)]);
  main = addCase('edge', 'simplernn_unroll_implementation',
                 'SimpleRNN unroll=true implementation=2 (both ignored)',
                 L('SimpleRNN', {units: 4, unroll: true, implementation: 2, returnState: true}),
                 [call(3, 5, 3)]);
  addCase('edge', 'simplernn_unroll_implementation_twin',
          `Twin of ${main} with unroll and implementation omitted`,
          L('SimpleRNN', {units: 4, returnState: true}), [call(3, 5, 3)], {twinOf: main});
  main = addCase('edge', 'lstm_implementation1', 'LSTM implementation=1 (ignored)',
                 L('LSTM', {units: 2, implementation: 1, returnSequences: true, returnState: true}),
                 [call(2, 3, 3)]);
  addCase('edge', 'lstm_implementation1_twin', `Twin of ${main} with implementation omitted`,
          L('LSTM', {units: 2, returnSequences: true, returnState: true}), [call(2, 3, 3)],
          {twinOf: main});
  addCase('edge', 'gru_repeated_calls_varying_b_t_seq',
          'non-stateful GRU returnSequences called with 1x3, 4x1, 2x7',
          L('GRU', {units: 2, returnSequences: true}), [call(1, 3, 2), call(4, 1, 2), call(2, 7, 2)]);
  addCase('edge', 'simplernn_repeated_calls_mask_initstate',
          'non-stateful SimpleRNN: call with mask + initialState, then plain call with another B/T',
          L('SimpleRNN', {units: 3, returnSequences: true, returnState: true}),
          [call(2, 4, 3, {mask: [[1, 0, 1, 1], [0, 0, 1, 0]], initialState: true}), call(3, 2, 3)]);
  addCase('edge', 'gru_large_inputs',
          'GRU with large inputs |x| <= 6 (hardSigmoid and tanh saturate)',
          L('GRU', {units: 3, returnSequences: true}), [call(2, 5, 3)], {xRange: 6.0});
  addCase('edge', 'lstm_large_inputs',
          'LSTM with large inputs |x| <= 6 (hardSigmoid and tanh saturate)',
          L('LSTM', {units: 3, returnSequences: true, returnState: true}), [call(2, 5, 3)],
          {xRange: 6.0});
})();

// ---------------------------------------------------------------------------
// big
// ---------------------------------------------------------------------------
(function big() {
  addCase('big', 'lstm_t64_u32', 'LSTM B=2 T=64 F=16 units=32 returnSequences+returnState',
          L('LSTM', {units: 32, returnSequences: true, returnState: true}), [call(2, 64, 16)],
          {wRange: bigRange(16, 32), recordRange: true});
  addCase('big', 'gru_t64_u32', 'GRU B=2 T=64 F=16 units=32 returnSequences+returnState',
          L('GRU', {units: 32, returnSequences: true, returnState: true}), [call(2, 64, 16)],
          {wRange: bigRange(16, 32), recordRange: true});
  addCase('big', 'simplernn_t64_u32', 'SimpleRNN B=2 T=64 F=16 units=32 returnSequences+returnState',
          L('SimpleRNN', {units: 32, returnSequences: true, returnState: true}), [call(2, 64, 16)],
          {wRange: bigRange(16, 32), recordRange: true});
  const lens = [48, 30, 17];
  const bigMask = lens.map((n, b) => Array.from({length: 48}, (_, t) => (b === 2 ? (t >= 5 && t < 5 + n ? 1 : 0) : (t < n ? 1 : 0))));
  addCase('big', 'bidi_lstm_t48_u24_mask',
          'Bidirectional(LSTM units=24) concat, B=3 T=48 F=12, mask with per-row lengths 48/30/17 (last row padded on both sides), returnSequences+returnState',
          Bidi({mergeMode: 'concat'},
               L('LSTM', {units: 24, returnSequences: true, returnState: true})),
          [call(3, 48, 12, {mask: bigMask})], {wRange: bigRange(12, 24), recordRange: true});
  addCase('big', 'stacked_lstm32_gru16_t64', 'rnn([LSTMCell(32), GRUCell(16)]) returnState, B=2 T=64 F=16',
          RNN({returnState: true, cell: [C('LSTMCell', 'cell0', {units: 32}),
                                         C('GRUCell', 'cell1', {units: 16})]}),
          [call(2, 64, 16)], {wRange: bigRange(16, 32), recordRange: true});
  addCase('big', 'lstm_t100_u64', 'LSTM B=2 T=100 F=16 units=64 returnSequences+returnState',
          L('LSTM', {units: 64, returnSequences: true, returnState: true}), [call(2, 100, 16)],
          {wRange: bigRange(16, 64), recordRange: true});
})();

// ---------------------------------------------------------------------------
// error
// ---------------------------------------------------------------------------
(function errors() {
  const E = (tag, desc, layer, steps, err, opts = {}) =>
      addCase('error', tag, desc, layer, steps, Object.assign({expectError: err}, opts));
  E('gru_reset_after', 'GRU resetAfter=true is not supported by TF.js (this library supports it on purpose)',
    L('GRU', {units: 3, resetAfter: true}), [call(2, 3, 2)],
    {at: 'construct', kind: 'unsupported_option'});
  E('rnn_grucell_reset_after', 'rnn(GRUCell resetAfter=true): the cell constructor throws in TF.js',
    RNN({returnSequences: true, cell: C('GRUCell', 'cell0', {units: 2, resetAfter: true})}),
    [call(2, 3, 2)], {at: 'construct', kind: 'unsupported_option'});
  E('simplernn_units_zero', 'SimpleRNN units=0', L('SimpleRNN', {units: 0}), [call(2, 3, 2)],
    {at: 'construct', kind: 'invalid_units'});
  E('gru_units_negative', 'GRU units=-1', L('GRU', {units: -1}), [call(2, 3, 2)],
    {at: 'construct', kind: 'invalid_units'});
  E('simplernn_units_fractional', 'SimpleRNN units=2.5', L('SimpleRNN', {units: 2.5}),
    [call(2, 3, 2)], {at: 'construct', kind: 'invalid_units'});
  E('lstm_units_missing', 'LSTM without units', L('LSTM', {}), [call(2, 3, 2)],
    {at: 'construct', kind: 'invalid_units'});
  E('lstm_units_string', 'LSTM units="3" (a string is not a positive integer)',
    L('LSTM', {units: '3'}), [call(2, 3, 2)], {at: 'construct', kind: 'invalid_units'});
  E('lstmcell_units_zero', 'rnn(LSTMCell units=0): the cell constructor throws',
    RNN({cell: C('LSTMCell', 'cell0', {units: 0})}), [call(2, 3, 2)],
    {at: 'construct', kind: 'invalid_units'});
  E('simplernn_input_rank2', 'SimpleRNN called with a rank-2 input [B, F]',
    L('SimpleRNN', {units: 2}), [callShape([2, 3])], {at: 0, kind: 'input_rank'});
  E('gru_input_rank4', 'GRU called with a rank-4 input [B, T, F, 1]', L('GRU', {units: 2}),
    [callShape([2, 3, 2, 1])], {at: 0, kind: 'input_rank'});
  E('lstm_one_initial_state', 'LSTM given 1 initial state instead of 2 (first call; rejected while building)',
    L('LSTM', {units: 2}), [call(2, 3, 2, {initialStateShapes: [[2, 2]]})],
    {at: 0, kind: 'initial_state_count'});
  E('lstm_one_initial_state_after_build',
    'LSTM given 1 initial state instead of 2 on the second call (already built: rejected in call())',
    L('LSTM', {units: 2}), [call(2, 3, 2), call(2, 3, 2, {initialStateShapes: [[2, 2]]})],
    {at: 1, kind: 'initial_state_count'});
  E('gru_two_initial_states_after_build', 'GRU given 2 initial states instead of 1 (built)',
    L('GRU', {units: 2, returnState: true}),
    [call(2, 3, 2), call(2, 3, 2, {initialStateShapes: [[2, 2], [2, 2]]})],
    {at: 1, kind: 'initial_state_count'});
  E('simplernn_initial_state_wrong_units', 'SimpleRNN(units=2) given an initial state of shape [B, 3]',
    L('SimpleRNN', {units: 2}), [call(2, 3, 2, {initialStateShapes: [[2, 3]]})],
    {at: 0, kind: 'initial_state_shape'});
  E('simplernn_initial_state_wrong_units_after_build',
    'SimpleRNN(units=2), built, then given an initial state of shape [B, 3] (fails in the matMul)',
    L('SimpleRNN', {units: 2}), [call(2, 3, 2), call(2, 3, 2, {initialStateShapes: [[2, 3]]})],
    {at: 1, kind: 'initial_state_shape', match: 'prefix', prefix: 'Error in fused matMul: inner shapes'});
  E('gru_initial_state_wrong_batch', 'GRU (B=2) given an initial state of batch 3 (fails inside the math)',
    L('GRU', {units: 2}), [call(2, 3, 2), call(2, 3, 2, {initialStateShapes: [[3, 2]]})],
    {at: 1, kind: 'initial_state_shape'});
  E('stacked_wrong_state_count', 'rnn([LSTMCell(3), GRUCell(2)]) given 2 initial states instead of 3 (first call)',
    RNN({cell: [C('LSTMCell', 'cell0', {units: 3}), C('GRUCell', 'cell1', {units: 2})]}),
    [call(2, 3, 2, {initialStateShapes: [[2, 2], [2, 3]]})],
    {at: 0, kind: 'initial_state_count'});
  E('stacked_wrong_state_count_after_build', 'rnn([LSTMCell(3), GRUCell(2)]) built, then given 2 initial states instead of 3',
    RNN({cell: [C('LSTMCell', 'cell0', {units: 3}), C('GRUCell', 'cell1', {units: 2})]}),
    [call(2, 3, 2), call(2, 3, 2, {initialStateShapes: [[2, 2], [2, 3]]})],
    {at: 1, kind: 'initial_state_count'});
  E('lstm_hard_sigmoid_name', "LSTM recurrentActivation='hard_sigmoid' (only camelCase hardSigmoid is accepted)",
    L('LSTM', {units: 2, recurrentActivation: 'hard_sigmoid'}), [call(2, 3, 2)],
    {at: 'construct', kind: 'unknown_activation'});
  E('simplernn_unknown_activation', "SimpleRNN activation='foo'",
    L('SimpleRNN', {units: 2, activation: 'foo'}), [call(2, 3, 2)],
    {at: 'construct', kind: 'unknown_activation'});
  E('gru_unknown_activation_case', "GRU activation='Tanh' (names are case-sensitive)",
    L('GRU', {units: 2, activation: 'Tanh'}), [call(2, 3, 2)],
    {at: 'construct', kind: 'unknown_activation'});
  E('bidi_bad_merge_mode', "Bidirectional mergeMode='max'",
    Bidi({mergeMode: 'max'}, L('LSTM', {units: 2})), [call(2, 3, 2)],
    {at: 'construct', kind: 'invalid_merge_mode'});
  E('bidi_odd_initial_state_count', 'Bidirectional(GRU) given 3 initial states (odd count)',
    Bidi({mergeMode: 'concat'}, L('GRU', {units: 2})),
    [call(2, 3, 2, {initialStateShapes: [[2, 2], [2, 2], [2, 2]]})],
    {at: 0, kind: 'initial_state_count'});
  E('reset_states_not_stateful', 'resetStates() on a non-stateful LSTM',
    L('LSTM', {units: 2}), [call(2, 3, 2), reset()], {at: 1, kind: 'not_stateful'});
  E('reset_states_values_not_stateful', 'resetStates(values) on a non-stateful GRU',
    L('GRU', {units: 2}), [call(2, 3, 2), reset({shapes: [[2, 2]]})],
    {at: 1, kind: 'not_stateful'});
  E('reset_states_wrong_count', 'stateful LSTM resetStates() with 1 value instead of 2',
    L('LSTM', {units: 3, stateful: true}), [call(2, 3, 2), reset({shapes: [[2, 3]]})],
    {at: 1, kind: 'initial_state_count', match: 'prefix',
     prefix: 'Layer rnn expects 2 state(s), but it received 1 state value(s).'});
  E('reset_states_wrong_shape', 'stateful LSTM resetStates() with a [2, 4] cell state (units=3)',
    L('LSTM', {units: 3, stateful: true}), [call(2, 3, 2), reset({shapes: [[2, 3], [2, 4]]})],
    {at: 1, kind: 'initial_state_shape'});
  E('stateful_batch_change', 'stateful SimpleRNN built with B=2 then called with B=3',
    L('SimpleRNN', {units: 2, stateful: true}), [call(2, 3, 2), call(3, 3, 2)],
    {at: 1, kind: 'input_shape'});
  E('feature_dim_change', 'GRU built with F=3 then called with F=4', L('GRU', {units: 2}),
    [call(2, 3, 3), call(2, 3, 4)], {at: 1, kind: 'input_shape'});
  E('rnn_missing_cell', 'tf.layers.rnn without a cell', RNN({returnSequences: true}),
    [call(2, 3, 2)], {at: 'construct', kind: 'missing_cell'});
  E('bidi_generic_rnn',
    'Bidirectional(tf.layers.rnn(...)) fails in TF.js 4.22.0 while cloning the wrapped layer (its config is mutated by the forward clone)',
    Bidi({mergeMode: 'concat'}, RNN({cell: C('LSTMCell', 'cell0', {units: 2})})), [call(2, 3, 2)],
    {at: 'construct', kind: 'tfjs_limitation', match: 'prefix',
     prefix: 'layer: Improper config format: '});
  E('bidi_generic_rnn_stacked',
    'Bidirectional(tf.layers.rnn({cell:[GRUCell, SimpleRNNCell]})) returnSequences fails in TF.js 4.22.0 while cloning',
    Bidi({mergeMode: 'sum'},
         RNN({returnSequences: true, cell: [C('GRUCell', 'cell0', {units: 2}),
                                            C('SimpleRNNCell', 'cell1', {units: 2})]})),
    [call(2, 3, 2)],
    {at: 'construct', kind: 'tfjs_limitation', match: 'prefix',
     prefix: 'layer: Improper config format: '});
})();

// ---------------------------------------------------------------------------
// Running a case
// ---------------------------------------------------------------------------
const TWIN_DATA = new Map();  // main case name -> {values, names, inputs per step, outputs}

function runCase(spec) {
  const rng = dataRng(spec.name);
  const {xRange, wRange, twin, out} = startCase(spec, TWIN_DATA);
  const errSpec = spec.expectError;
  let thrown = null;  // {at, err}

  // 1. construct
  let layer = null;
  try {
    layer = buildLayer(spec.layer);
  } catch (e) {
    thrown = {at: 'construct', err: e};
  }
  let resolved = null;
  if (layer) {
    resolved = resolve(layer);
    out.resolved = resolved;
  }
  if (spec.recordRange) out.weight_range = wRange;

  // 2. inputs for every step (drawn up front so that they do not depend on
  //    whether TF.js throws)
  const stepInputs = spec.steps.map((st, si) => {
    if (twin) return twin.inputs[si];
    if (st.op === 'reset_states') {
      if (st.states === undefined) return null;
      if (st.states === 'random') {
        return {states: randomStates(rng, resolved, spec.steps.find(s => s.op === 'call').xShape[0])};
      }
      return {states: st.states.shapes.map(sh => randomTensor(rng, sh, 1.0))};
    }
    const [B, T] = st.xShape;
    const inp = {x: randomTensor(rng, st.xShape, xRange)};
    if (st.mask !== undefined) inp.mask = randomMask(rng, B, T, st.mask);
    if (st.initialState) {
      inp.initial_state = randomStates(rng, resolved, B);
    } else if (st.initialStateShapes) {
      inp.initial_state = st.initialStateShapes.map(sh => randomTensor(rng, sh, 1.0));
    }
    return inp;
  });

  // 3. build + set weights (skipped when TF.js throws at construction or on
  //    the very first call, which is where it would build)
  let weightsOut = [];
  const firstCall = spec.steps.findIndex(s => s.op === 'call');
  const failsAtFirstCall = errSpec && errSpec.at === firstCall;
  if (layer && !thrown && !failsAtFirstCall) {
    buildWithZeros(layer, spec.steps[firstCall].xShape);
    const vars = layer.weights;
    const names = vars.map(v => v.originalName);
    const values = weightValues(spec.name, rng, twin, vars, names, wRange);
    weightsOut = setWeights(spec.name, layer, vars, names, values);
    if (!twin) TWIN_DATA.set(spec.name, {values, names, inputs: stepInputs, outputs: []});
  }
  out.weights = weightsOut;

  // 4. replay
  const stepsOut = [];
  const outputsForTwin = [];
  for (let si = 0; si < spec.steps.length; si++) {
    const st = spec.steps[si];
    const inp = stepInputs[si];
    if (st.op === 'reset_states') {
      const rec = {op: 'reset_states'};
      if (inp) rec.states = statesJSON(resolved, inp.states);
      stepsOut.push(rec);
      if (thrown) continue;
      try {
        if (inp) {
          layer.resetStates(inp.states.map(toTensor));
        } else {
          layer.resetStates();
        }
      } catch (e) {
        thrown = {at: si, err: e};
      }
      continue;
    }
    const rec = {op: 'call'};
    if (st.training !== undefined) rec.training = st.training;
    rec.inputs = inputsJSON(resolved, inp, !st.initialStateShapes);
    stepsOut.push(rec);
    if (thrown) continue;
    let result;
    try {
      result = tf.tidy(() => {
        const kwargs = {};
        if (inp.mask) kwargs.mask = toTensor(inp.mask);
        if (inp.initial_state) kwargs.initialState = inp.initial_state.map(toTensor);
        if (st.training !== undefined) kwargs.training = st.training;
        return applyLayer(layer, toTensor(inp.x), kwargs);
      });
    } catch (e) {
      thrown = {at: si, err: e};
      continue;
    }
    const names = resolved.output_names;
    if (result.length !== names.length) {
      throw new Error(`${spec.name}: ${result.length} outputs, expected ${names.length}`);
    }
    rec.outputs = result.map((t, k) => tensorJSON(names[k], t.shape, t.dataSync()));
    outputsForTwin.push(result.map(t => t.dataSync().slice()));
    tf.dispose(result);
  }
  out.steps = stepsOut;

  // 5. twins / errors
  if (!spec.twinOf && TWIN_DATA.has(spec.name)) TWIN_DATA.get(spec.name).outputs = outputsForTwin;
  if (twin) {
    out.equal_to = spec.twinOf;
    const a = twin.outputs, b = outputsForTwin;
    const same = a.length === b.length && a.every((o, i) => o.length === b[i].length &&
        o.every((t, k) => t.length === b[i][k].length && t.every((v, j) => v === b[i][k][j])));
    if (!same) throw new Error(`${spec.name}: outputs differ from twin ${spec.twinOf}`);
  }
  if (errSpec) {
    if (!thrown) throw new Error(`${spec.name}: expected an error at ${errSpec.at}, none thrown`);
    if (thrown.at !== errSpec.at) {
      throw new Error(`${spec.name}: expected error at ${errSpec.at}, got at ${thrown.at}: ${thrown.err.message}`);
    }
    const msg = thrown.err.message;
    let match = 'exact', message = msg;
    if (errSpec.match === 'prefix') {
      if (!msg.startsWith(errSpec.prefix)) {
        throw new Error(`${spec.name}: message does not start with the expected prefix: ${msg}`);
      }
      match = 'prefix';
      message = errSpec.prefix;
    } else if (msg.includes('\n')) {
      // keep the first line (the rest is generic advice)
      match = 'prefix';
      message = msg.split('\n')[0];
    }
    out.expect_error = {
      at: errSpec.at,
      type: thrown.err.constructor.name,
      kind: errSpec.kind,
      match,
      message,
    };
  } else if (thrown) {
    throw new Error(`${spec.name}: unexpected TF.js error at ${thrown.at}: ${thrown.err.stack}`);
  }
  out.tolerance = TOLERANCE;
  if (layer) {
    try {
      layer.dispose();
    } catch (e) { /* layers that never built cannot be disposed: ignore */ }
  }
  return out;
}

// ---------------------------------------------------------------------------
async function main() {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: node generate_cases.js OUTDIR');
    process.exit(2);
  }
  await writeCases(CASES, outDir, spec => ser(runCase(spec), 0) + '\n');
}

runMain(main);
