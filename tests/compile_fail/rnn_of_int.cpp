// expect: must be a recurrent cell
// RNN<Cell> requires Cell to model the recurrent-cell protocol; RNN<int> must be refused by a
// static_assert with a readable sentence, not by a template backtrace.
#include <recurrent/recurrent.hpp>

int main() {
#ifdef RECURRENT_SHOULD_FAIL
  recurrent::RNN<int>* p = nullptr;
  (void)p;
  (void)sizeof(recurrent::RNN<int>);
#endif
  return 0;
}
