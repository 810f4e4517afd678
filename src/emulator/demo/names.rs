//! Word lists for demo customers and products.

/// First names.
pub const FIRST: &[&str] = &[
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger", "Radia", "Guido",
    "Sophie", "Tim", "Hedy", "Claude", "Katherine", "John", "Anita", "Donald", "Lynn", "Niklaus", "Mary", "Bjarne",
    "Joan", "Leslie", "Shafi", "Yukihiro", "Adele", "Brian",
];
/// Last names.
pub const LAST: &[&str] = &[
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen", "Dijkstra",
    "Perlman", "van Rossum", "Wilson", "Berners-Lee", "Lamarr", "Shannon", "Johnson", "McCarthy", "Borg", "Knuth",
    "Conway", "Wirth", "Keller", "Stroustrup", "Clarke", "Lamport", "Goldwasser", "Matsumoto", "Goldberg", "Kernighan",
];
/// Customer countries.
pub const COUNTRIES: &[&str] = &["US", "US", "US", "GB", "DE", "FR", "CA", "AU", "JP", "NL", "SE", "BR"];
/// Plans stored in customer metadata.
pub const PLANS: &[&str] = &["free", "starter", "pro", "pro", "enterprise"];
/// Product names.
pub const PRODUCTS: &[&str] = &[
    "Analytics Pro", "Data Warehouse", "Team Seats", "API Calls", "Priority Support", "Onboarding Session",
    "Storage Add-on", "SSO Connector", "Audit Log", "Custom Domain", "Training Day", "Consulting Hour",
];
