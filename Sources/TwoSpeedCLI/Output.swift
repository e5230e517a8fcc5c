import TwoSpeedJSON

/// Prints text meant for a person (a report, an assessment) to standard output with its control
/// characters escaped: a name in a portfolio could otherwise carry terminal escape sequences that
/// rewrite the screen, set the window title or worse. JSON output needs no such step (JSON escapes
/// them), and a report written to a file (--output) is written as it is.
func printText(_ text: String) {
    print(ControlEscape.escaped(text, keepingLines: true), terminator: "")
}
