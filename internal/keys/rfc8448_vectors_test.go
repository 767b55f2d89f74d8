package keys_test

// Test vectors from RFC 8448, "Example Handshake Traces for TLS 1.3", copied
// byte for byte from /work/shared/rfc/rfc8448.txt. Each constant names the
// section, the step heading and the field it was taken from. All four traces
// use TLS_AES_128_GCM_SHA256.

// ---- RFC 8448 §3, Simple 1-RTT Handshake ----

// §3 {client} construct a ClientHello handshake message: ClientHello
const s3ClientHello = `
	01 00 00 c0 03 03 cb 34 ec b1 e7 81 63 ba 1c 38
	c6 da cb 19 6a 6d ff a2 1a 8d 99 12 ec 18 a2 ef
	62 83 02 4d ec e7 00 00 06 13 01 13 03 13 02 01
	00 00 91 00 00 00 0b 00 09 00 00 06 73 65 72 76
	65 72 ff 01 00 01 00 00 0a 00 14 00 12 00 1d 00
	17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00
	23 00 00 00 33 00 26 00 24 00 1d 00 20 99 38 1d
	e5 60 e4 bd 43 d2 3d 8e 43 5a 7d ba fe b3 c0 6e
	51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c 00 2b 00
	03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03
	02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01
	04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c
	00 02 40 01
`

// §3 {server} construct a ServerHello handshake message: ServerHello
const s3ServerHello = `
	02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e
	60 24 9c d3 4c 95 93 0c 8a c5 cb 14 34 da c1 55
	77 2e d3 e2 69 28 00 13 01 00 00 2e 00 33 00 24
	00 1d 00 20 c9 82 88 76 11 20 95 fe 66 76 2b db
	f7 c6 72 e1 56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0
	4e 75 1f 0f 00 2b 00 02 03 04
`

// §3 {server} extract secret "handshake": IKM
const s3ECDHE = `
	8b d4 05 4f b5 5b 9d 63 fd fb ac f9 f0 4b 9f 0d
	35 e6 d6 3f 53 75 63 ef d4 62 72 90 0f 89 49 2d
`

// §3 {server} extract secret "early": secret
const s3EarlySecret = `
	33 ad 0a 1c 60 7e c0 3b 09 e6 cd 98 93 68 0c e2
	10 ad f3 00 aa 1f 26 60 e1 b2 2e 10 f1 70 f9 2a
`

// §3 {server} extract secret "handshake": secret
const s3HandshakeSecret = `
	1d c8 26 e9 36 06 aa 6f dc 0a ad c1 2f 74 1b 01
	04 6a a6 b9 9f 69 1e d2 21 a9 f0 ca 04 3f be ac
`

// §3 {server} derive secret "tls13 c hs traffic": hash
const s3HelloHash = `
	86 0c 06 ed c0 78 58 ee 8e 78 f0 e7 42 8c 58 ed
	d6 b4 3f 2c a3 e6 e9 5f 02 ed 06 3c f0 e1 ca d8
`

// §3 {server} derive secret "tls13 c hs traffic": expanded
const s3ClientHandshakeTraffic = `
	b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f
	3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21
`

// §3 {server} derive secret "tls13 s hs traffic": expanded
const s3ServerHandshakeTraffic = `
	b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4
	e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38
`

// §3 {server} extract secret "master": secret
const s3MasterSecret = `
	18 df 06 84 3d 13 a0 8b f2 a4 49 84 4c 5f 8a 47
	80 01 bc 4d 4c 62 79 84 d5 a4 1d a8 d0 40 29 19
`

// §3 {server} derive secret for handshake "tls13 derived": expanded
const s3EarlyDerived = `
	6f 26 15 a1 08 c7 02 c5 67 8f 54 fc 9d ba b6 97
	16 c0 76 18 9c 48 25 0c eb ea c3 57 6c 36 11 ba
`

// §3 {server} derive write traffic keys for handshake data: key expanded
const s3ServerHandshakeKey = `
	3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc
`

// §3 {server} derive write traffic keys for handshake data: iv expanded
const s3ServerHandshakeIV = `
	5d 31 3e b2 67 12 76 ee 13 00 0b 30
`

// §3 {server} derive read traffic keys for handshake data: key expanded
const s3ClientHandshakeKey = `
	db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01
`

// §3 {server} derive read traffic keys for handshake data: iv expanded
const s3ClientHandshakeIV = `
	5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f
`

// §3 {server} construct an EncryptedExtensions handshake message: EncryptedExtensions
const s3EncryptedExtensions = `
	08 00 00 24 00 22 00 0a 00 14 00 12 00 1d 00 17
	00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 1c
	00 02 40 01 00 00 00 00
`

// §3 {server} construct a Certificate handshake message: Certificate
const s3Certificate = `
	0b 00 01 b9 00 00 01 b5 00 01 b0 30 82 01 ac 30
	82 01 15 a0 03 02 01 02 02 01 02 30 0d 06 09 2a
	86 48 86 f7 0d 01 01 0b 05 00 30 0e 31 0c 30 0a
	06 03 55 04 03 13 03 72 73 61 30 1e 17 0d 31 36
	30 37 33 30 30 31 32 33 35 39 5a 17 0d 32 36 30
	37 33 30 30 31 32 33 35 39 5a 30 0e 31 0c 30 0a
	06 03 55 04 03 13 03 72 73 61 30 81 9f 30 0d 06
	09 2a 86 48 86 f7 0d 01 01 01 05 00 03 81 8d 00
	30 81 89 02 81 81 00 b4 bb 49 8f 82 79 30 3d 98
	08 36 39 9b 36 c6 98 8c 0c 68 de 55 e1 bd b8 26
	d3 90 1a 24 61 ea fd 2d e4 9a 91 d0 15 ab bc 9a
	95 13 7a ce 6c 1a f1 9e aa 6a f9 8c 7c ed 43 12
	09 98 e1 87 a8 0e e0 cc b0 52 4b 1b 01 8c 3e 0b
	63 26 4d 44 9a 6d 38 e2 2a 5f da 43 08 46 74 80
	30 53 0e f0 46 1c 8c a9 d9 ef bf ae 8e a6 d1 d0
	3e 2b d1 93 ef f0 ab 9a 80 02 c4 74 28 a6 d3 5a
	8d 88 d7 9f 7f 1e 3f 02 03 01 00 01 a3 1a 30 18
	30 09 06 03 55 1d 13 04 02 30 00 30 0b 06 03 55
	1d 0f 04 04 03 02 05 a0 30 0d 06 09 2a 86 48 86
	f7 0d 01 01 0b 05 00 03 81 81 00 85 aa d2 a0 e5
	b9 27 6b 90 8c 65 f7 3a 72 67 17 06 18 a5 4c 5f
	8a 7b 33 7d 2d f7 a5 94 36 54 17 f2 ea e8 f8 a5
	8c 8f 81 72 f9 31 9c f3 6b 7f d6 c5 5b 80 f2 1a
	03 01 51 56 72 60 96 fd 33 5e 5e 67 f2 db f1 02
	70 2e 60 8c ca e6 be c1 fc 63 a4 2a 99 be 5c 3e
	b7 10 7c 3c 54 e9 b9 eb 2b d5 20 3b 1c 3b 84 e0
	a8 b2 f7 59 40 9b a3 ea c9 d9 1d 40 2d cc 0c c8
	f8 96 12 29 ac 91 87 b4 2b 4d e1 00 00
`

// §3 {server} construct a CertificateVerify handshake message: CertificateVerify
const s3CertificateVerify = `
	0f 00 00 84 08 04 00 80 5a 74 7c 5d 88 fa 9b d2
	e5 5a b0 85 a6 10 15 b7 21 1f 82 4c d4 84 14 5a
	b3 ff 52 f1 fd a8 47 7b 0b 7a bc 90 db 78 e2 d3
	3a 5c 14 1a 07 86 53 fa 6b ef 78 0c 5e a2 48 ee
	aa a7 85 c4 f3 94 ca b6 d3 0b be 8d 48 59 ee 51
	1f 60 29 57 b1 54 11 ac 02 76 71 45 9e 46 44 5c
	9e a5 8c 18 1e 81 8e 95 b8 c3 fb 0b f3 27 84 09
	d3 be 15 2a 3d a5 04 3e 06 3d da 65 cd f5 ae a2
	0d 53 df ac d4 2f 74 f3
`

// §3 {server} calculate finished "tls13 finished": expanded
const s3ServerFinishedKey = `
	00 8d 3b 66 f8 16 ea 55 9f 96 b5 37 e8 85 c3 1f
	c0 68 bf 49 2c 65 2f 01 f2 88 a1 d8 cd c1 9f c8
`

// §3 {server} calculate finished "tls13 finished": finished
const s3ServerVerifyData = `
	9b 9b 14 1d 90 63 37 fb d2 cb dc e7 1d f4 de da
	4a b4 2c 30 95 72 cb 7f ff ee 54 54 b7 8f 07 18
`

// §3 {server} construct a Finished handshake message: Finished
const s3ServerFinished = `
	14 00 00 20 9b 9b 14 1d 90 63 37 fb d2 cb dc e7
	1d f4 de da 4a b4 2c 30 95 72 cb 7f ff ee 54 54
	b7 8f 07 18
`

// §3 {server} derive secret "tls13 c ap traffic": hash
const s3ServerFinishedHash = `
	96 08 10 2a 0f 1c cc 6d b6 25 0b 7b 7e 41 7b 1a
	00 0e aa da 3d aa e4 77 7a 76 86 c9 ff 83 df 13
`

// §3 {server} derive secret "tls13 c ap traffic": expanded
const s3ClientAppTraffic = `
	9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52
	87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5
`

// §3 {server} derive secret "tls13 s ap traffic": expanded
const s3ServerAppTraffic = `
	a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32
	82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43
`

// §3 {server} derive secret "tls13 exp master": expanded
const s3ExporterMaster = `
	fe 22 f8 81 17 6e da 18 eb 8f 44 52 9e 67 92 c5
	0c 9a 3f 89 45 2f 68 d8 ae 31 1b 43 09 d3 cf 50
`

// §3 {server} derive write traffic keys for application data: key expanded
const s3ServerAppKey = `
	9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56
`

// §3 {server} derive write traffic keys for application data: iv expanded
const s3ServerAppIV = `
	cf 78 2b 88 dd 83 54 9a ad f1 e9 84
`

// §3 {client} calculate finished "tls13 finished": expanded
const s3ClientFinishedKey = `
	b8 0a d0 10 15 fb 2f 0b d6 5f f7 d4 da 5d 6b f8
	3f 84 82 1d 1f 87 fd c7 d3 c7 5b 5a 7b 42 d9 c4
`

// §3 {client} calculate finished "tls13 finished": finished
const s3ClientVerifyData = `
	a8 ec 43 6d 67 76 34 ae 52 5a c1 fc eb e1 1a 03
	9e c1 76 94 fa c6 e9 85 27 b6 42 f2 ed d5 ce 61
`

// §3 {client} construct a Finished handshake message: Finished
const s3ClientFinished = `
	14 00 00 20 a8 ec 43 6d 67 76 34 ae 52 5a c1 fc
	eb e1 1a 03 9e c1 76 94 fa c6 e9 85 27 b6 42 f2
	ed d5 ce 61
`

// §3 {client} derive write traffic keys for application data: key expanded
const s3ClientAppKey = `
	17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51
`

// §3 {client} derive write traffic keys for application data: iv expanded
const s3ClientAppIV = `
	5b 78 92 3d ee 08 57 90 33 e5 23 d9
`

// §3 {client} derive secret "tls13 res master": hash
const s3ClientFinishedHash = `
	20 91 45 a9 6e e8 e2 a1 22 ff 81 00 47 cc 95 26
	84 65 8d 60 49 e8 64 29 42 6d b8 7c 54 ad 14 3d
`

// §3 {client} derive secret "tls13 res master": expanded
const s3ResumptionMaster = `
	7d f2 35 f2 03 1d 2a 05 12 87 d0 2b 02 41 b0 bf
	da f8 6c c8 56 23 1f 2d 5a ba 46 c4 34 ec 19 6c
`

// §3 {server} generate resumption secret "tls13 resumption": hash
const s3TicketNonce = `
	00 00
`

// §3 {server} generate resumption secret "tls13 resumption": expanded
const s3ResumptionPSK = `
	4e cd 0e b6 ec 3b 4d 87 f5 d6 02 8f 92 2c a4 c5
	85 1a 27 7f d4 13 11 c9 e6 2d 2c 94 92 e1 c4 f3
`

// ---- RFC 8448 §4, Resumed 0-RTT Handshake ----

// §4 {client} extract secret "early": IKM
const s4PSK = `
	4e cd 0e b6 ec 3b 4d 87 f5 d6 02 8f 92 2c a4 c5
	85 1a 27 7f d4 13 11 c9 e6 2d 2c 94 92 e1 c4 f3
`

// §4 {client} extract secret "early": secret
const s4EarlySecret = `
	9b 21 88 e9 b2 fc 6d 64 d7 1d c3 29 90 0e 20 bb
	41 91 50 00 f6 78 aa 83 9c bb 79 7c b7 d8 33 2c
`

// §4 {client} calculate PSK binder: ClientHello prefix
const s4TruncatedClientHello = `
	01 00 01 fc 03 03 1b c3 ce b6 bb e3 9c ff 93 83
	55 b5 a5 0a db 6d b2 1b 7a 6a f6 49 d7 b4 bc 41
	9d 78 76 48 7d 95 00 00 06 13 01 13 03 13 02 01
	00 01 cd 00 00 00 0b 00 09 00 00 06 73 65 72 76
	65 72 ff 01 00 01 00 00 0a 00 14 00 12 00 1d 00
	17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00
	33 00 26 00 24 00 1d 00 20 e4 ff b6 8a c0 5f 8d
	96 c9 9d a2 66 98 34 6c 6b e1 64 82 ba dd da fe
	05 1a 66 b4 f1 8d 66 8f 0b 00 2a 00 00 00 2b 00
	03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03
	02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01
	04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c
	00 02 40 01 00 15 00 57 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	29 00 dd 00 b8 00 b2 2c 03 5d 82 93 59 ee 5f f7
	af 4e c9 00 00 00 00 26 2a 64 94 dc 48 6d 2c 8a
	34 cb 33 fa 90 bf 1b 00 70 ad 3c 49 88 83 c9 36
	7c 09 a2 be 78 5a bc 55 cd 22 60 97 a3 a9 82 11
	72 83 f8 2a 03 a1 43 ef d3 ff 5d d3 6d 64 e8 61
	be 7f d6 1d 28 27 db 27 9c ce 14 50 77 d4 54 a3
	66 4d 4e 6d a4 d2 9e e0 37 25 a6 a4 da fc d0 fc
	67 d2 ae a7 05 29 51 3e 3d a2 67 7f a5 90 6c 5b
	3f 7d 8f 92 f2 28 bd a4 0d da 72 14 70 f9 fb f2
	97 b5 ae a6 17 64 6f ac 5c 03 27 2e 97 07 27 c6
	21 a7 91 41 ef 5f 7d e6 50 5e 5b fb c3 88 e9 33
	43 69 40 93 93 4a e4 d3 57 fa d6 aa cb
`

// §4 {client} calculate PSK binder: binder hash
const s4BinderHash = `
	63 22 4b 2e 45 73 f2 d3 45 4c a8 4b 9d 00 9a 04
	f6 be 9e 05 71 1a 83 96 47 3a ef a0 1e 92 4a 14
`

// §4 {client} calculate PSK binder: PRK
const s4BinderKey = `
	69 fe 13 1a 3b ba d5 d6 3c 64 ee bc c3 0e 39 5b
	9d 81 07 72 6a 13 d0 74 e3 89 db c8 a4 e4 72 56
`

// §4 {client} calculate PSK binder: expanded
const s4BinderFinishedKey = `
	55 88 67 3e 72 cb 59 c8 7d 22 0c af fe 94 f2 de
	a9 a3 b1 60 9f 7d 50 e9 0a 48 22 7d b9 ed 7e aa
`

// §4 {client} calculate PSK binder: finished
const s4Binder = `
	3a dd 4f b2 d8 fd f8 22 a0 ca 3c f7 67 8e f5 e8
	8d ae 99 01 41 c5 92 4d 57 bb 6f a3 1b 9e 5f 9d
`

// §4 {client} send handshake record: payload (the whole ClientHello, binders included)
const s4ClientHello = `
	01 00 01 fc 03 03 1b c3 ce b6 bb e3 9c ff 93 83
	55 b5 a5 0a db 6d b2 1b 7a 6a f6 49 d7 b4 bc 41
	9d 78 76 48 7d 95 00 00 06 13 01 13 03 13 02 01
	00 01 cd 00 00 00 0b 00 09 00 00 06 73 65 72 76
	65 72 ff 01 00 01 00 00 0a 00 14 00 12 00 1d 00
	17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00
	33 00 26 00 24 00 1d 00 20 e4 ff b6 8a c0 5f 8d
	96 c9 9d a2 66 98 34 6c 6b e1 64 82 ba dd da fe
	05 1a 66 b4 f1 8d 66 8f 0b 00 2a 00 00 00 2b 00
	03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03
	02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01
	04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c
	00 02 40 01 00 15 00 57 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	29 00 dd 00 b8 00 b2 2c 03 5d 82 93 59 ee 5f f7
	af 4e c9 00 00 00 00 26 2a 64 94 dc 48 6d 2c 8a
	34 cb 33 fa 90 bf 1b 00 70 ad 3c 49 88 83 c9 36
	7c 09 a2 be 78 5a bc 55 cd 22 60 97 a3 a9 82 11
	72 83 f8 2a 03 a1 43 ef d3 ff 5d d3 6d 64 e8 61
	be 7f d6 1d 28 27 db 27 9c ce 14 50 77 d4 54 a3
	66 4d 4e 6d a4 d2 9e e0 37 25 a6 a4 da fc d0 fc
	67 d2 ae a7 05 29 51 3e 3d a2 67 7f a5 90 6c 5b
	3f 7d 8f 92 f2 28 bd a4 0d da 72 14 70 f9 fb f2
	97 b5 ae a6 17 64 6f ac 5c 03 27 2e 97 07 27 c6
	21 a7 91 41 ef 5f 7d e6 50 5e 5b fb c3 88 e9 33
	43 69 40 93 93 4a e4 d3 57 fa d6 aa cb 00 21 20
	3a dd 4f b2 d8 fd f8 22 a0 ca 3c f7 67 8e f5 e8
	8d ae 99 01 41 c5 92 4d 57 bb 6f a3 1b 9e 5f 9d
`

// §4 {client} derive secret "tls13 c e traffic": hash
const s4ClientHelloHash = `
	08 ad 0f a0 5d 7c 72 33 b1 77 5b a2 ff 9f 4c 5b
	8b 59 27 6b 7f 22 7f 13 a9 76 24 5f 5d 96 09 13
`

// §4 {client} derive secret "tls13 c e traffic": expanded
const s4ClientEarlyTraffic = `
	3f bb e6 a6 0d eb 66 c3 0a 32 79 5a ba 0e ff 7e
	aa 10 10 55 86 e7 be 5c 09 67 8d 63 b6 ca ab 62
`

// §4 {client} derive secret "tls13 e exp master": expanded
const s4EarlyExporterMaster = `
	b2 02 68 66 61 09 37 d7 42 3e 5b e9 08 62 cc f2
	4c 0e 60 91 18 6d 34 f8 12 08 9f f5 be 2e f7 df
`

// §4 {client} derive write traffic keys for early application data: key expanded
const s4EarlyKey = `
	92 02 05 a5 b7 bf 21 15 e6 fc 5c 29 42 83 4f 54
`

// §4 {client} derive write traffic keys for early application data: iv expanded
const s4EarlyIV = `
	6d 47 5f 09 93 c8 e5 64 61 0d b2 b9
`

// §4 {server} construct a ServerHello handshake message: ServerHello
const s4ServerHello = `
	02 00 00 5c 03 03 3c cf d2 de c8 90 22 27 63 47
	2a e8 13 67 77 c9 d7 35 87 77 bb 66 e9 1e a5 12
	24 95 f5 59 ea 2d 00 13 01 00 00 34 00 29 00 02
	00 00 00 33 00 24 00 1d 00 20 12 17 61 ee 42 c3
	33 e1 b9 e7 7b 60 dd 57 c2 05 3c d9 45 12 ab 47
	f1 15 e8 6e ff 50 94 2c ea 31 00 2b 00 02 03 04
`

// §4 {server} extract secret "handshake": IKM
const s4ECDHE = `
	f4 41 94 75 6f f9 ec 9d 25 18 06 35 d6 6e a6 82
	4c 6a b3 bf 17 99 77 be 37 f7 23 57 0e 7c cb 2e
`

// §4 {server} extract secret "handshake": secret
const s4HandshakeSecret = `
	00 5c b1 12 fd 8e b4 cc c6 23 bb 88 a0 7c 64 b3
	ed e1 60 53 63 fc 7d 0d f8 c7 ce 4f f0 fb 4a e6
`

// §4 {server} derive secret "tls13 c hs traffic": expanded
const s4ClientHandshakeTraffic = `
	2f aa c0 8f 85 1d 35 fe a3 60 4f cb 4d e8 2d c6
	2c 9b 16 4a 70 97 4d 04 62 e2 7f 1a b2 78 70 0f
`

// §4 {server} derive secret "tls13 s hs traffic": expanded
const s4ServerHandshakeTraffic = `
	fe 92 7a e2 71 31 2e 8b f0 27 5b 58 1c 54 ee f0
	20 45 0d c4 ec ff aa 05 a1 a3 5d 27 51 8e 78 03
`

// §4 {server} extract secret "master": secret
const s4MasterSecret = `
	e2 d3 2d 4e d6 6d d3 78 97 a0 e8 0c 84 10 75 03
	ce 58 bf 8a ad 4c b5 5a 50 02 d7 7e cb 89 0e ce
`

// §4 {server} construct an EncryptedExtensions handshake message: EncryptedExtensions
const s4EncryptedExtensions = `
	08 00 00 28 00 26 00 0a 00 14 00 12 00 1d 00 17
	00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 1c
	00 02 40 01 00 00 00 00 00 2a 00 00
`

// §4 {server} calculate finished "tls13 finished": finished
const s4ServerVerifyData = `
	48 d3 e0 e1 b3 d9 07 c6 ac ff 14 5e 16 09 03 88
	c7 7b 05 c0 50 b6 34 ab 1a 88 bb d0 dd 1a 34 b2
`

// §4 {server} construct a Finished handshake message: Finished
const s4ServerFinished = `
	14 00 00 20 48 d3 e0 e1 b3 d9 07 c6 ac ff 14 5e
	16 09 03 88 c7 7b 05 c0 50 b6 34 ab 1a 88 bb d0
	dd 1a 34 b2
`

// §4 {server} derive secret "tls13 c ap traffic": expanded
const s4ClientAppTraffic = `
	2a bb f2 b8 e3 81 d2 3d be be 1d d2 a7 d1 6a 8b
	f4 84 cb 49 50 d2 3f b7 fb 7f a8 54 70 62 d9 a1
`

// §4 {server} derive secret "tls13 s ap traffic": expanded
const s4ServerAppTraffic = `
	cc 21 f1 bf 8f eb 7d d5 fa 50 5b d9 c4 b4 68 a9
	98 4d 55 4a 99 3d c4 9e 6d 28 55 98 fb 67 26 91
`

// §4 {server} derive secret "tls13 exp master": expanded
const s4ExporterMaster = `
	3f d9 3d 4f fd dc 98 e6 4b 14 dd 10 7a ed f8 ee
	4a dd 23 f4 51 0f 58 a4 59 2d 0b 20 1b ee 56 b4
`

// §4 {client} construct an EndOfEarlyData handshake message: EndOfEarlyData
const s4EndOfEarlyData = `
	05 00 00 00
`

// §4 {client} calculate finished "tls13 finished": finished
const s4ClientVerifyData = `
	72 30 a9 c9 52 c2 5c d6 13 8f c5 e6 62 83 08 c4
	1c 53 35 dd 81 b9 f9 6b ce a5 0f d3 2b da 41 6d
`

// §4 {client} construct a Finished handshake message: Finished
const s4ClientFinished = `
	14 00 00 20 72 30 a9 c9 52 c2 5c d6 13 8f c5 e6
	62 83 08 c4 1c 53 35 dd 81 b9 f9 6b ce a5 0f d3
	2b da 41 6d
`

// §4 {client} derive secret "tls13 res master": expanded
const s4ResumptionMaster = `
	5e 95 bd f1 f8 90 05 ea 2e 9a a0 ba 85 e7 28 e3
	c1 9c 5f e0 c6 99 e3 f5 be e5 9f ae bd 0b 54 06
`

// ---- RFC 8448 §5, HelloRetryRequest ----

// §5 {client} construct a ClientHello handshake message: ClientHello (the first ClientHello)
const s5ClientHello1 = `
	01 00 00 b0 03 03 b0 b1 c5 a5 aa 37 c5 91 9f 2e
	d1 d5 c6 ff f7 fc b7 84 97 16 94 5a 2b 8c ee 92
	58 a3 46 67 7b 6f 00 00 06 13 01 13 03 13 02 01
	00 00 81 00 00 00 0b 00 09 00 00 06 73 65 72 76
	65 72 ff 01 00 01 00 00 0a 00 08 00 06 00 1d 00
	17 00 18 00 33 00 26 00 24 00 1d 00 20 e8 e8 e3
	f3 b9 3a 25 ed 97 a1 4a 7d ca cb 8a 27 2c 62 88
	e5 85 c6 48 4d 05 26 2f ca d0 62 ad 1f 00 2b 00
	03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03
	02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01
	04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c
	00 02 40 01
`

// §5 {server} construct a ServerHello handshake message: ServerHello (the HelloRetryRequest)
const s5HelloRetryRequest = `
	02 00 00 ac 03 03 cf 21 ad 74 e5 9a 61 11 be 1d
	8c 02 1e 65 b8 91 c2 a2 11 16 7a bb 8c 5e 07 9e
	09 e2 c8 a8 33 9c 00 13 01 00 00 84 00 33 00 02
	00 17 00 2c 00 74 00 72 71 dc d0 4b b8 8b c3 18
	91 19 39 8a 00 00 00 00 ee fa fc 76 c1 46 b8 23
	b0 96 f8 aa ca d3 65 dd 00 30 95 3f 4e df 62 56
	36 e5 f2 1b b2 e2 3f cc 65 4b 1b 5b 40 31 8d 10
	d1 37 ab cb b8 75 74 e3 6e 8a 1f 02 5f 7d fa 5d
	6e 50 78 1b 5e da 4a a1 5b 0c 8b e7 78 25 7d 16
	aa 30 30 e9 e7 84 1d d9 e4 c0 34 22 67 e8 ca 0c
	af 57 1f b2 b7 cf f0 f9 34 b0 00 2b 00 02 03 04
`

// §5 {client} construct a ClientHello handshake message: ClientHello (the second ClientHello)
const s5ClientHello2 = `
	01 00 01 fc 03 03 b0 b1 c5 a5 aa 37 c5 91 9f 2e
	d1 d5 c6 ff f7 fc b7 84 97 16 94 5a 2b 8c ee 92
	58 a3 46 67 7b 6f 00 00 06 13 01 13 03 13 02 01
	00 01 cd 00 00 00 0b 00 09 00 00 06 73 65 72 76
	65 72 ff 01 00 01 00 00 0a 00 08 00 06 00 1d 00
	17 00 18 00 33 00 47 00 45 00 17 00 41 04 a6 da
	73 92 ec 59 1e 17 ab fd 53 59 64 b9 98 94 d1 3b
	ef b2 21 b3 de f2 eb e3 83 0e ac 8f 01 51 81 26
	77 c4 d6 d2 23 7e 85 cf 01 d6 91 0c fb 83 95 4e
	76 ba 73 52 83 05 34 15 98 97 e8 06 57 80 00 2b
	00 03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06
	03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02
	01 04 02 05 02 06 02 02 02 00 2c 00 74 00 72 71
	dc d0 4b b8 8b c3 18 91 19 39 8a 00 00 00 00 ee
	fa fc 76 c1 46 b8 23 b0 96 f8 aa ca d3 65 dd 00
	30 95 3f 4e df 62 56 36 e5 f2 1b b2 e2 3f cc 65
	4b 1b 5b 40 31 8d 10 d1 37 ab cb b8 75 74 e3 6e
	8a 1f 02 5f 7d fa 5d 6e 50 78 1b 5e da 4a a1 5b
	0c 8b e7 78 25 7d 16 aa 30 30 e9 e7 84 1d d9 e4
	c0 34 22 67 e8 ca 0c af 57 1f b2 b7 cf f0 f9 34
	b0 00 2d 00 02 01 01 00 1c 00 02 40 01 00 15 00
	af 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
	00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
`

// §5 {server} construct a ServerHello handshake message: ServerHello (the real ServerHello)
const s5ServerHello = `
	02 00 00 77 03 03 bb 34 1d 84 7f d7 89 c4 7c 38
	71 72 dc 0c 9b f1 47 fc ca cb 50 43 d8 6c a4 c5
	98 d3 ff 57 1b 98 00 13 01 00 00 4f 00 33 00 45
	00 17 00 41 04 58 3e 05 4b 7a 66 67 2a e0 20 ad
	9d 26 86 fc c8 5b 5a d4 1a 13 4a 0f 03 ee 72 b8
	93 05 2b d8 5b 4c 8d e6 77 6f 5b 04 ac 07 d8 35
	40 ea b3 e3 d9 c5 47 bc 65 28 c4 31 7d 29 46 86
	09 3a 6c ad 7d 00 2b 00 02 03 04
`

// §5 {server} extract secret "handshake": IKM
const s5ECDHE = `
	c1 42 ce 13 ca 11 b5 c2 23 36 52 e6 3a d3 d9 78
	44 f1 62 1f bf b9 de 69 d5 47 dc 8f ed ea be b4
`

// §5 {server} extract secret "handshake": secret
const s5HandshakeSecret = `
	ce 02 2e 5e 6e 81 e5 07 36 d7 73 f2 d3 ad fc e8
	22 0d 04 9b f5 10 f0 db fa c9 27 ef 42 43 b1 48
`

// §5 {server} derive secret "tls13 c hs traffic": hash
const s5HelloHash = `
	8a a8 e8 28 ec 2f 8a 88 4f ec 95 a3 13 9d e0 1c
	15 a3 da a7 ff 5b fc 3f 4b fc c2 1b 43 8d 7b f8
`

// §5 {server} derive secret "tls13 c hs traffic": expanded
const s5ClientHandshakeTraffic = `
	15 8a a7 ab 88 55 07 35 82 b4 1d 67 4b 40 55 ca
	bc c5 34 72 8f 65 93 14 86 1b 4e 08 e2 01 15 66
`

// §5 {server} derive secret "tls13 s hs traffic": expanded
const s5ServerHandshakeTraffic = `
	34 03 e7 81 e2 af 7b 65 08 da 28 57 4f 6e 95 a1
	ab f1 62 de 83 a9 79 27 c3 76 72 a4 a0 ce f8 a1
`

// §5 {server} extract secret "master": secret
const s5MasterSecret = `
	11 31 54 5d 0b af 79 dd ce 9b 87 f0 69 45 78 1a
	57 dd 18 ef 37 8d cd 20 60 f8 f9 a5 69 02 7e d8
`

// §5 {server} construct an EncryptedExtensions handshake message: EncryptedExtensions
const s5EncryptedExtensions = `
	08 00 00 18 00 16 00 0a 00 08 00 06 00 17 00 18
	00 1d 00 1c 00 02 40 01 00 00 00 00
`

// §5 {server} construct a Certificate handshake message: Certificate
const s5Certificate = `
	0b 00 01 b9 00 00 01 b5 00 01 b0 30 82 01 ac 30
	82 01 15 a0 03 02 01 02 02 01 02 30 0d 06 09 2a
	86 48 86 f7 0d 01 01 0b 05 00 30 0e 31 0c 30 0a
	06 03 55 04 03 13 03 72 73 61 30 1e 17 0d 31 36
	30 37 33 30 30 31 32 33 35 39 5a 17 0d 32 36 30
	37 33 30 30 31 32 33 35 39 5a 30 0e 31 0c 30 0a
	06 03 55 04 03 13 03 72 73 61 30 81 9f 30 0d 06
	09 2a 86 48 86 f7 0d 01 01 01 05 00 03 81 8d 00
	30 81 89 02 81 81 00 b4 bb 49 8f 82 79 30 3d 98
	08 36 39 9b 36 c6 98 8c 0c 68 de 55 e1 bd b8 26
	d3 90 1a 24 61 ea fd 2d e4 9a 91 d0 15 ab bc 9a
	95 13 7a ce 6c 1a f1 9e aa 6a f9 8c 7c ed 43 12
	09 98 e1 87 a8 0e e0 cc b0 52 4b 1b 01 8c 3e 0b
	63 26 4d 44 9a 6d 38 e2 2a 5f da 43 08 46 74 80
	30 53 0e f0 46 1c 8c a9 d9 ef bf ae 8e a6 d1 d0
	3e 2b d1 93 ef f0 ab 9a 80 02 c4 74 28 a6 d3 5a
	8d 88 d7 9f 7f 1e 3f 02 03 01 00 01 a3 1a 30 18
	30 09 06 03 55 1d 13 04 02 30 00 30 0b 06 03 55
	1d 0f 04 04 03 02 05 a0 30 0d 06 09 2a 86 48 86
	f7 0d 01 01 0b 05 00 03 81 81 00 85 aa d2 a0 e5
	b9 27 6b 90 8c 65 f7 3a 72 67 17 06 18 a5 4c 5f
	8a 7b 33 7d 2d f7 a5 94 36 54 17 f2 ea e8 f8 a5
	8c 8f 81 72 f9 31 9c f3 6b 7f d6 c5 5b 80 f2 1a
	03 01 51 56 72 60 96 fd 33 5e 5e 67 f2 db f1 02
	70 2e 60 8c ca e6 be c1 fc 63 a4 2a 99 be 5c 3e
	b7 10 7c 3c 54 e9 b9 eb 2b d5 20 3b 1c 3b 84 e0
	a8 b2 f7 59 40 9b a3 ea c9 d9 1d 40 2d cc 0c c8
	f8 96 12 29 ac 91 87 b4 2b 4d e1 00 00
`

// §5 {server} construct a CertificateVerify handshake message: CertificateVerify
const s5CertificateVerify = `
	0f 00 00 84 08 04 00 80 33 ab 13 d4 46 27 07 23
	1b 5d ca e6 c8 19 0b 63 d1 da bc 74 f2 8c 39 53
	70 da 0b 07 e5 b8 30 66 d0 24 6a 31 ac d9 5d f4
	75 bf d7 99 a4 a7 0d 33 ad 93 d3 a3 17 a9 b2 c0
	d2 37 a5 68 5b 21 9e 77 41 12 e3 91 a2 47 60 7d
	1a ef f1 bb d0 a3 9f 38 2e e1 a5 fe 88 ae 99 ec
	59 22 8e 64 97 e4 5d 48 ce 27 5a 6d 5e f4 0d 16
	9f b6 f9 d3 3b 05 2e d3 dc dd 6b 5a 48 ba af ff
	bc b2 90 12 84 15 bd 38
`

// §5 {server} calculate finished "tls13 finished": finished
const s5ServerVerifyData = `
	88 63 e6 bf b0 42 0a 92 7f a2 7f 34 33 6a 70 ae
	42 6e 96 8e 3e b8 84 94 5b 96 85 6d ba 39 76 d1
`

// §5 {server} construct a Finished handshake message: Finished
const s5ServerFinished = `
	14 00 00 20 88 63 e6 bf b0 42 0a 92 7f a2 7f 34
	33 6a 70 ae 42 6e 96 8e 3e b8 84 94 5b 96 85 6d
	ba 39 76 d1
`

// §5 {server} derive secret "tls13 c ap traffic": expanded
const s5ClientAppTraffic = `
	75 ec f4 b9 72 52 5a a0 dc d0 57 c9 94 4d 4c d5
	d8 26 71 d8 84 31 41 d7 dc 2a 4f f1 5a 21 dc 51
`

// §5 {server} derive secret "tls13 s ap traffic": expanded
const s5ServerAppTraffic = `
	5c 74 f8 7d f0 42 25 db 0f 82 09 c9 de 64 29 e4
	94 35 fd ef a7 ca d6 18 64 87 4d 12 f3 1c fc 8d
`

// §5 {server} derive secret "tls13 exp master": expanded
const s5ExporterMaster = `
	7c 06 d3 ae 10 6a 3a 37 4a ce 48 37 b3 98 5c ac
	67 78 0a 6e 2c 5c 04 b5 83 19 d5 84 df 09 d2 23
`

// §5 {client} calculate finished "tls13 finished": finished
const s5ClientVerifyData = `
	23 f5 2f db 07 09 a5 5b d7 f7 9b 99 1f 25 48 40
	87 bc fd 4d 43 80 b1 23 26 a5 2a 28 b2 e3 68 e1
`

// §5 {client} construct a Finished handshake message: Finished
const s5ClientFinished = `
	14 00 00 20 23 f5 2f db 07 09 a5 5b d7 f7 9b 99
	1f 25 48 40 87 bc fd 4d 43 80 b1 23 26 a5 2a 28
	b2 e3 68 e1
`

// §5 {client} derive secret "tls13 res master": expanded
const s5ResumptionMaster = `
	09 17 0c 6d 47 27 21 56 6f 9c f9 9b 08 69 9d af
	f5 61 ec 8f b2 2d 5a 32 c3 f9 4c e0 09 b6 99 75
`

// ---- RFC 8448 §6, Client Authentication ----

// §6 {client} construct a ClientHello handshake message: ClientHello
const s6ClientHello = `
	01 00 00 bc 03 03 6a 47 22 36 32 8b 83 af 40 38
	6d 3a 3e 1f 1c e6 24 fa 4e d8 9a b8 65 a4 ff 0f
	41 44 ce 3a e2 33 00 00 06 13 01 13 03 13 02 01
	00 00 8d 00 00 00 0b 00 09 00 00 06 73 65 72 76
	65 72 ff 01 00 01 00 00 0a 00 14 00 12 00 1d 00
	17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00
	33 00 26 00 24 00 1d 00 20 08 9c c2 67 1f 73 8d
	9a 67 1e 5b 2e 46 49 81 d0 5b 76 e3 61 aa 22 ae
	a9 1f 1d 49 ca 10 a7 a3 62 00 2b 00 03 02 03 04
	00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04
	08 05 08 06 04 01 05 01 06 01 02 01 04 02 05 02
	06 02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01
`

// §6 {server} construct a ServerHello handshake message: ServerHello
const s6ServerHello = `
	02 00 00 56 03 03 3b 50 fd f1 c3 d5 72 e4 0e 68
	95 3e 7f ff 4e 27 58 45 9c 59 af a0 58 2c 0e a0
	32 87 42 55 fe 6e 00 13 01 00 00 2e 00 33 00 24
	00 1d 00 20 6c 2e 50 e8 65 91 9a 6b 5a 12 df af
	91 8f 92 b4 42 56 7b 0f 89 bc 54 47 8c 69 21 36
	66 58 f0 62 00 2b 00 02 03 04
`

// §6 {server} extract secret "handshake": IKM
const s6ECDHE = `
	7d c1 14 f6 47 5d fa 79 77 be 73 6e f7 cb eb c4
	8c 70 32 9e 8e 9a 74 b4 d7 03 3c 43 f9 59 7d 4f
`

// §6 {server} extract secret "handshake": secret
const s6HandshakeSecret = `
	d9 95 24 36 74 fb 64 00 d7 d3 7b c0 e9 86 1b db
	d9 ed 09 56 01 dc f2 99 48 74 f2 80 3d e2 2e 39
`

// §6 {server} derive secret "tls13 c hs traffic": expanded
const s6ClientHandshakeTraffic = `
	ce c7 a3 0c 68 72 07 0f 22 a7 ee b0 65 76 8d b6
	7c 45 e2 95 33 db 87 99 08 ce 6d c6 6f 59 11 de
`

// §6 {server} derive secret "tls13 s hs traffic": expanded
const s6ServerHandshakeTraffic = `
	8b 02 d3 c0 04 42 a2 72 2c 40 98 eb e8 67 5b 23
	e8 01 51 0f 0d 7e d7 78 d8 eb 0b 8f 42 a1 9a 5e
`

// §6 {server} extract secret "master": secret
const s6MasterSecret = `
	57 c1 5d 7b 9d 44 1b 3d 40 a9 c6 ea 8a 3d 73 0e
	07 b3 a1 ea 7a 33 39 ed 70 70 b9 a7 4a 3f 4f 28
`

// §6 {server} construct an EncryptedExtensions handshake message: EncryptedExtensions
const s6EncryptedExtensions = `
	08 00 00 24 00 22 00 0a 00 14 00 12 00 1d 00 17
	00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 1c
	00 02 40 01 00 00 00 00
`

// §6 {server} construct a CertificateRequest handshake message: CertificateRequest
const s6CertificateRequest = `
	0d 00 00 27 00 00 24 00 0d 00 20 00 1e 04 03 05
	03 06 03 02 03 08 04 08 05 08 06 04 01 05 01 06
	01 02 01 04 02 05 02 06 02 02 02
`

// §6 {server} construct a Certificate handshake message: Certificate
const s6ServerCertificate = `
	0b 00 01 3b 00 00 01 37 00 01 32 30 82 01 2e 30
	81 d5 a0 03 02 01 02 02 01 07 30 0a 06 08 2a 86
	48 ce 3d 04 03 02 30 13 31 11 30 0f 06 03 55 04
	03 13 08 65 63 64 73 61 32 35 36 30 1e 17 0d 31
	36 30 37 33 30 30 31 32 34 30 30 5a 17 0d 32 36
	30 37 33 30 30 31 32 34 30 30 5a 30 13 31 11 30
	0f 06 03 55 04 03 13 08 65 63 64 73 61 32 35 36
	30 59 30 13 06 07 2a 86 48 ce 3d 02 01 06 08 2a
	86 48 ce 3d 03 01 07 03 42 00 04 08 d5 30 16 15
	75 f4 cf e7 f1 54 ee 34 48 18 00 86 00 1e 88 43
	1a 79 ee 62 ee 6e 2f 83 ef 38 ba 61 e9 fb 37 f3
	4e 00 7a 7d f4 d2 f5 b5 6d 1f 04 ec e4 5d 62 1f
	46 84 06 f5 c3 a1 51 58 94 8d d0 a3 1a 30 18 30
	09 06 03 55 1d 13 04 02 30 00 30 0b 06 03 55 1d
	0f 04 04 03 02 07 80 30 0a 06 08 2a 86 48 ce 3d
	04 03 02 03 48 00 30 45 02 21 00 df 30 fd 45 07
	f5 ed d2 2c 1a 6f f8 6d b4 79 ca 69 3f ee ca 3b
	71 b3 f9 ef 55 6b 29 37 c0 59 4d 02 20 62 e2 a4
	72 50 d3 20 fe a8 3c 7e 2d cb 5b 76 a5 0e 02 00
	c0 9a db d1 3f ee 94 6e 51 3e 01 1d 11 00 00
`

// §6 {server} construct a CertificateVerify handshake message: CertificateVerify
const s6ServerCertificateVerify = `
	0f 00 00 4b 04 03 00 47 30 45 02 21 00 d7 a4 d3
	4b d5 4f 55 fe e1 a8 96 25 67 8c 3d d5 e5 f6 0d
	ac 73 ec 94 0c 5c 7b 93 04 a0 20 84 a9 02 20 28
	9f 59 5e d4 88 b9 ac 68 9a 3d 19 2b 1a 8b b3 8f
	34 af 78 74 c0 59 c9 80 6a 1f 38 26 93 53 e8
`

// §6 {server} calculate finished "tls13 finished": finished
const s6ServerVerifyData = `
	93 b7 0c df 47 81 98 5b 96 34 5c aa c7 01 b4 e7
	50 d3 04 2d f1 a6 89 d8 fa ca 81 22 51 11 3c 11
`

// §6 {server} construct a Finished handshake message: Finished
const s6ServerFinished = `
	14 00 00 20 93 b7 0c df 47 81 98 5b 96 34 5c aa
	c7 01 b4 e7 50 d3 04 2d f1 a6 89 d8 fa ca 81 22
	51 11 3c 11
`

// §6 {server} derive secret "tls13 c ap traffic": expanded
const s6ClientAppTraffic = `
	73 c2 e8 90 fa 8d 06 72 58 d6 d5 0f a9 2f e4 56
	b0 98 cf 00 d9 72 7e ed 91 e8 89 2e f4 e6 f8 60
`

// §6 {server} derive secret "tls13 s ap traffic": expanded
const s6ServerAppTraffic = `
	c4 9a 91 fa f5 7f 8c 54 5d 50 48 a0 15 bf 84 9f
	f6 39 42 e4 a7 ed cd 31 9f 8b 43 8a 97 c5 2e 21
`

// §6 {server} derive secret "tls13 exp master": expanded
const s6ExporterMaster = `
	05 2e 39 79 5e 5f 2b e6 e4 e0 97 4c fd d8 6c 6a
	7a fe 3e 57 e5 58 98 10 a3 cc cf 64 29 58 be b2
`

// §6 {client} construct a Certificate handshake message: Certificate
const s6ClientCertificate = `
	0b 00 01 bf 00 00 01 bb 00 01 b6 30 82 01 b2 30
	82 01 1b a0 03 02 01 02 02 01 01 30 0d 06 09 2a
	86 48 86 f7 0d 01 01 0b 05 00 30 11 31 0f 30 0d
	06 03 55 04 03 13 06 63 6c 69 65 6e 74 30 1e 17
	0d 31 36 30 37 33 30 30 31 32 33 35 39 5a 17 0d
	32 36 30 37 33 30 30 31 32 33 35 39 5a 30 11 31
	0f 30 0d 06 03 55 04 03 13 06 63 6c 69 65 6e 74
	30 81 9f 30 0d 06 09 2a 86 48 86 f7 0d 01 01 01
	05 00 03 81 8d 00 30 81 89 02 81 81 00 c3 81 75
	e0 04 a6 8d 09 3f 82 3b 9c 37 9d 20 1f bc 0b b7
	a1 c7 91 90 5e 3f bf 76 84 7e 44 e7 51 eb bc d3
	60 bd 94 5c 81 e5 22 2b cc 88 46 d3 a8 a0 f9 3e
	9b f5 be ba bd 92 ed f1 de 1f f1 90 21 70 3e 7a
	b6 c0 90 15 13 f9 7e 39 b1 11 f0 9c 93 48 97 1c
	7b 21 19 84 a7 54 cd 45 fe 09 5a f0 ea 42 36 82
	9b cc f7 a7 fe 9b 28 88 e7 8a b4 77 69 0a 5b 9e
	1c cb e9 1c 6a 4a 0f 97 a7 e0 28 42 01 02 03 01
	00 01 a3 1a 30 18 30 09 06 03 55 1d 13 04 02 30
	00 30 0b 06 03 55 1d 0f 04 04 03 02 07 80 30 0d
	06 09 2a 86 48 86 f7 0d 01 01 0b 05 00 03 81 81
	00 1a 7a 5a 01 85 32 b0 22 af 07 67 d4 86 16 0c
	ff 2d 16 7a 19 15 d2 38 35 b5 45 94 91 6d c6 80
	be 5d 2e 62 60 76 c5 d5 27 22 eb cc 77 5d 7d 99
	f9 80 be 2f c9 4d 34 ac f6 cc 00 ba 90 cb cf b0
	60 8a a1 e7 e3 97 1e f0 c0 7a 41 d4 7a d8 34 5d
	1f 81 fe 41 8a 1c f4 10 54 42 9f d2 17 bd 77 7d
	c1 cf 08 f0 5d f9 07 99 c6 59 36 1e 0f 1a 8e e4
	ac 0f 78 97 42 0b db c8 23 da 80 a2 f2 ba 23 08
	1c 00 00
`

// §6 {client} construct a CertificateVerify handshake message: CertificateVerify
const s6ClientCertificateVerify = `
	0f 00 00 84 08 04 00 80 18 6b 22 23 b5 03 a7 59
	c3 5d ba 0e 97 21 b4 b5 79 13 8d 5f 0f 5e 6e c7
	fe aa f2 7f 3a d7 f3 86 c2 c7 bd 7c b2 be 52 fb
	f5 ed 83 93 f4 06 ee 79 36 96 92 ec 7a c6 95 65
	1d 85 82 19 e6 72 a8 eb 7b 2a 67 7b 64 0b 46 ab
	63 0e dc 5f 3f 2f 82 72 b9 c0 d9 06 f8 1f 84 dd
	c5 b8 c7 bc f9 55 c7 8a 3c f9 9e 50 16 f7 3e 04
	eb 7d fc b2 88 33 f1 3e 8f 75 ec 2f f3 58 1e 2f
	09 8a d4 15 7f d6 d6 ad
`

// §6 {client} calculate finished "tls13 finished": finished
const s6ClientVerifyData = `
	9a fe 2b a2 f6 3a 09 d2 29 d8 a4 29 e5 b3 7f fd
	9f cc 73 bd b5 91 1b 82 42 59 72 aa 28 92 44 0f
`

// §6 {client} construct a Finished handshake message: Finished
const s6ClientFinished = `
	14 00 00 20 9a fe 2b a2 f6 3a 09 d2 29 d8 a4 29
	e5 b3 7f fd 9f cc 73 bd b5 91 1b 82 42 59 72 aa
	28 92 44 0f
`

// §6 {client} derive secret "tls13 res master": expanded
const s6ResumptionMaster = `
	10 06 dc cb f4 0e b4 eb 97 8b ff 03 92 a9 e4 52
	a4 fb ad 58 aa 14 78 4d 5a 24 1c 6b 49 da cc fb
`
