// QBin
