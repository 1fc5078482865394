package dynamostore

// GuardKey exposes guardKey to the external tests.
var GuardKey = guardKey

// DecodeBond exposes decodeBond to the external tests.
var DecodeBond = decodeBond
