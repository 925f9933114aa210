package xdptest

// RequirePrivilegedWith is RequirePrivileged with the result of the
// capability check given, to test the skip-or-fail policy either way.
var RequirePrivilegedWith = requirePrivileged
