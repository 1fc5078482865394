package dynamostore

// GuardKey exposes guardKey to the external tests.
var GuardKey = guardKey
