//! SIP signalling for tipring, sans-IO: message parsing and building (RFC 3261 §7, §19,
//! §20, §25). Transactions, dialogs, digest auth, SDP and the user agent come on top.
