// expect: must be a recurrent cell
// A type that does not provide the cell protocol (rnn_cell.hpp) is refused by RNN<> with one
// static_assert sentence.
#include <recurrent/recurrent.hpp>

struct NotACell {
  using Scalar = float;
  recurrent::Index units() const { return 1; }
};

int main() {
#ifdef RECURRENT_SHOULD_FAIL
  (void)sizeof(recurrent::RNN<NotACell>);
#endif
  return 0;
}
