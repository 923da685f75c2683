print("qconvert")
