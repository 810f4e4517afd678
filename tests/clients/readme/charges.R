# The README's R snippet, run by serve::arrow::readme_snippets_run (argument: the Postgres port).
port <- as.integer(commandArgs(trailingOnly = TRUE)[1])

# R over the Postgres port: apt install r-cran-rpostgresql (or install.packages("RPostgreSQL"))
library(DBI)
con <- dbConnect(RPostgreSQL::PostgreSQL(), host = "127.0.0.1", port = port, dbname = "stripe", user = "u")
totals <- dbGetQuery(con, "SELECT currency, sum(amount) AS total FROM charges GROUP BY currency ORDER BY currency")
invisible(dbDisconnect(con))
write.csv(totals, stdout(), row.names = FALSE)
