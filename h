HTTP/1.1 201 Created
Cache-Control: private, no-cache
Content-Length: 126
Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
Content-Type: application/json
Etag: "8"
Location: /bonds/GV
X-Content-Type-Options: nosniff
X-Frame-Options: DENY
X-Request-Id: 7Y6DR5D65E6LUQ7EHNBMKT6WCJ
Date: Tue, 01 Dec 2026 23:44:52 GMT

