// expect: Scalar = float or double
// Cells are defined for float and double only; LSTMCell<int> stops at one static_assert.
#include <recurrent/recurrent.hpp>

int main() {
#ifdef RECURRENT_SHOULD_FAIL
  recurrent::LSTMCellArgs args;
  args.units = 2;
  recurrent::LSTMCell<int> cell(args);
  (void)cell;
#else
  recurrent::LSTMCellArgs args;
  args.units = 2;
  recurrent::LSTMCell<float> cell(args);
  (void)cell;
#endif
  return 0;
}
